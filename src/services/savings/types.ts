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
