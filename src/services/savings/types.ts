import type { IndexEntry } from "./index-store.js";

/**
 * What a savings job reports. A queued job (waiting for a free scan slot) is reported as RUNNING with no progress;
 * every job ends in exactly one of the three terminal states. IDLE is no job's state: it is the first event of a
 * subscription while no job runs, carrying the bucket's last result (or zeros when it has none).
 */
export type JobState = "IDLE" | "RUNNING" | "DONE" | "FAILED" | "CANCELLED";

export function isTerminal(state: JobState): boolean {
  return state === "DONE" || state === "FAILED" || state === "CANCELLED";
}

/** One event of a job: its running totals while RUNNING, the final figures when DONE. */
export interface SavingsProgress {
  taskId: string;
  bucket: string;
  state: JobState;
  /** Logical objects accounted for so far (a delta counts once its HEAD answered); never decreases within a job. */
  scannedObjects: number;
  /** Running totals while RUNNING, final figures when DONE, 0 after FAILED or CANCELLED (partial results are discarded). */
  originalBytes: number;
  storedBytes: number;
  savingsPct: number;
  objectCount: number;
  /** FAILED only: the GliderError code of the storage failure (`internal` for anything else). */
  errorCode?: string;
  /** DONE only: when the figures were computed. */
  computedAt?: Date;
}

/** Cached result of the last successful scan (format doc §5; RFC-DG-UI-0002 "Size & Savings"). */
export interface BucketSavings {
  /** Logical objects (deltas and direct files; references and `.deltaglider/` housekeeping excluded). */
  objectCount: number;
  /** Sum of original sizes: `dg-file-size` for deltas, the LIST size for direct files. */
  originalBytes: number;
  /** Every physical byte the bucket holds, each `reference.bin` counted once. */
  storedBytes: number;
  /** (1 − stored/original)·100, two decimals, clamped to 0..100, 0 for an empty bucket. */
  savingsPct: number;
  computedAt: Date;
}

/** What Glider itself changed in a bucket, so the index follows without a HEAD on the next scan. */
export interface BucketChange {
  bucket: string;
  /** The logical key uploaded or deleted. */
  key: string;
  /** For uploads: the physical object now holding the key. */
  stored?: { physicalKey: string; etag?: string; storedBytes: number; originalBytes: number };
}

/** Returned by `start`: the job that now runs for the bucket (a new one, or the one it joined). */
export interface SavingsJobRef {
  taskId: string;
  bucket: string;
  state: JobState;
}

export interface SavingsStatus {
  /** Figures of the last successful scan; undefined when never computed, expired or invalidated. */
  figures?: BucketSavings;
  /** A job for the bucket is queued or running. */
  pending: boolean;
  /** The bucket's latest job (running or finished), if any. */
  job?: SavingsProgress;
}

export interface SavingsService {
  /**
   * Starts (or joins) the bucket's job; `bucket_not_found` for a missing or hidden bucket. Returns once the job is registered:
   * the scan runs off the request path. `taskId` names a new job (several instances: the id of the job taken over).
   */
  start(bucket: string, taskId?: string): Promise<SavingsJobRef>;
  /** Cached figures (undefined when never computed or expired) and whether a job is running. */
  status(bucket: string): SavingsStatus;
  /**
   * The bucket's latest job as a stream: its current state first (nothing if the bucket never had a job: then the
   * next job is followed), then progress (≤ one event per `progressIntervalMs`, a slow reader gets the newest), then
   * exactly one terminal event. Ends after the terminal event, when `signal` aborts, or when the reader returns.
   * Throws `bucket_not_found` at once for a hidden bucket.
   */
  watch(bucket: string, signal?: AbortSignal): AsyncIterable<SavingsProgress>;
  /**
   * What a subscriber sees (GraphQL `savingsProgress`): the running job's progress first, or, while no job runs, one
   * IDLE event with the last result (zeros when none is cached); then the progress of the running or next job and its
   * one terminal event. Rejects with `bucket_not_found` for a missing or hidden bucket.
   */
  follow(bucket: string, signal?: AbortSignal): Promise<AsyncIterable<SavingsProgress>>;
  /** Cancels the bucket's queued or running job (it ends CANCELLED); false when none was running. */
  cancel(bucket: string): boolean;
  /** Drops cached figures (uploads and deletes call this); a scan running meanwhile is not cached when it ends. */
  invalidate(bucket: string): void;
  /** Records an upload or delete of Glider's own in the bucket's index (and drops its cached figures). */
  record(change: BucketChange): void;
  /**
   * The bucket's savings index, read-only (physical key → ETag, stored and original size): the one in memory, else
   * read from the index store (one GET); undefined when there is none or it cannot be read. Entries are only valid
   * while LIST shows the same ETag and size (see index-store.ts); listings use it to skip HEADs.
   */
  index(bucket: string): Promise<ReadonlyMap<string, IndexEntry> | undefined>;
  /** Refuses new jobs, cancels running ones (CANCELLED) and waits for them to settle. */
  close(): Promise<void>;
}
