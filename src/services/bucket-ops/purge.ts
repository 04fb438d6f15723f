import { mapWithConcurrency } from "../concurrency.js";
import { GliderError } from "../errors.js";
import type { ObjectStore } from "../storage/object-store.js";

export const TEMP_PREFIX = ".deltaglider/tmp/";

export interface PurgeResult {
  bucket: string;
  prefix: string;
  dry_run: boolean;
  scanned_count: number;
  expired_count: number;
  deleted_count: number;
  error_count: number;
  total_size_freed: number;
  expired_files: { key: string; size: number; expires_at: string }[];
  errors: string[];
}

/** `dg-expires-at` as written (naive UTC, or with `Z`); undefined when absent or unreadable. */
function expiry(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const iso = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * Deletes the expired rehydrated copies under `.deltaglider/tmp/` (format doc §7.1): one LIST, a HEAD per object,
 * a delete where `dg-expires-at` is not in the future. Objects without an expiry are kept. A dry run deletes nothing.
 */
export async function purgeTemporary(
  store: ObjectStore,
  bucket: string,
  options: { dryRun: boolean; now?: Date; concurrency?: number; signal?: AbortSignal },
): Promise<PurgeResult> {
  const { signal } = options;
  const now = options.now ?? new Date();
  if (!(await store.bucketExists(bucket, signal))) {
    throw new GliderError("bucket_not_found", `bucket "${bucket}" does not exist`, { bucket });
  }
  const result: PurgeResult = {
    bucket,
    prefix: TEMP_PREFIX,
    dry_run: options.dryRun,
    scanned_count: 0,
    expired_count: 0,
    deleted_count: 0,
    error_count: 0,
    total_size_freed: 0,
    expired_files: [],
    errors: [],
  };
  let continuationToken: string | undefined;
  do {
    const page = await store.listObjects({ bucket, prefix: TEMP_PREFIX, continuationToken, signal });
    result.scanned_count += page.objects.length;
    await mapWithConcurrency(page.objects, options.concurrency ?? 16, async (o) => {
      try {
        const raw = (await store.headObject(bucket, o.key, signal)).metadata;
        const value = raw["dg-expires-at"];
        const at = expiry(value);
        if (!at || at.getTime() > now.getTime()) return;
        result.expired_count++;
        result.expired_files.push({ key: o.key, size: o.size, expires_at: value });
        if (options.dryRun) {
          result.total_size_freed += o.size;
          return;
        }
        await store.deleteObject(bucket, o.key, signal);
        result.deleted_count++;
        result.total_size_freed += o.size;
      } catch (error) {
        if (error instanceof GliderError && error.code === "key_not_found") return;
        if (signal?.aborted) throw error;
        result.error_count++;
        result.errors.push(`${o.key}: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
    continuationToken = page.nextContinuationToken;
  } while (continuationToken);
  result.expired_files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return result;
}
