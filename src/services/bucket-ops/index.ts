/**
 * Bucket operations of the CLI (and the browsing rules the server shares): the interface front doors import.
 * The files behind it are internals; `npm run lint` keeps front doors from reaching into them.
 */
export { NO_FILTER, type PathFilter, selects } from "./filters.js";
export {
  assertBucket,
  assertVisible,
  folderPrefix,
  type Listing,
  type LogicalRow,
  listLogical,
  notFound,
  visibleBuckets,
  withOriginalSizes,
  withoutHidden,
} from "./listing.js";
export { type CopyOptions, copyLogical, type MigrationItem, type MigrationPlan, planMigration } from "./migrate.js";
export { type PurgeResult, purgeTemporary, TEMP_PREFIX } from "./purge.js";
export { type PutResult, putLogical } from "./put.js";
export { isFolderKey, type RemovalResult, removeObjects } from "./remove.js";
export { type BucketStats, bucketStats, type StatsCache, type StatsMode, type StatsOptions } from "./stats.js";
export { planSync, type SyncEntry, type SyncPlan, type SyncReason } from "./sync-plan.js";
export { type VerifyResult, verifyObject } from "./verify.js";
