import type { ScanProgress } from "./compute.js";
import type { BucketSavings, JobState, SavingsProgress } from "./types.js";

/** Where a job is in its life, for the `jobs` gauge (its `state` is what clients see: queued counts as RUNNING). */
export type Phase = "queued" | "running" | "ended";

/** A savings job: its scan, what it has reported and how it ends. */
export interface Job {
  taskId: string;
  bucket: string;
  state: JobState;
  phase: Phase;
  progress: ScanProgress;
  errorCode?: string;
  computedAt?: Date;
  controller: AbortController;
  /** `invalidate` was called while the job ran: its figures may predate the change. */
  stale: boolean;
  lastPublishedAt: number;
  timer?: NodeJS.Timeout;
  settled: Promise<void>;
}

/** The event clients see for a job; figures of a FAILED or CANCELLED job are discarded. */
export function snapshot(job: Job): SavingsProgress {
  const { progress } = job;
  const discarded = job.state === "FAILED" || job.state === "CANCELLED";
  const event: SavingsProgress = {
    taskId: job.taskId,
    bucket: job.bucket,
    state: job.state,
    scannedObjects: progress.scannedObjects,
    objectCount: discarded ? 0 : progress.objectCount,
    originalBytes: discarded ? 0 : progress.originalBytes,
    storedBytes: discarded ? 0 : progress.storedBytes,
    savingsPct: discarded ? 0 : progress.savingsPct,
  };
  if (job.errorCode !== undefined) event.errorCode = job.errorCode;
  if (job.computedAt !== undefined) event.computedAt = job.computedAt;
  return event;
}

/** The IDLE event (no job runs): the last figures, or zeros; `last` is the previous job or its last event. */
export function idleSnapshot(
  bucket: string,
  last: Pick<Job, "taskId"> | undefined,
  figures: BucketSavings | undefined,
): SavingsProgress {
  const event: SavingsProgress = {
    taskId: last?.taskId ?? "",
    bucket,
    state: "IDLE",
    scannedObjects: figures?.objectCount ?? 0,
    objectCount: figures?.objectCount ?? 0,
    originalBytes: figures?.originalBytes ?? 0,
    storedBytes: figures?.storedBytes ?? 0,
    savingsPct: figures?.savingsPct ?? 0,
  };
  if (figures) event.computedAt = figures.computedAt;
  return event;
}
