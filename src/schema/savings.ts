import { startSavings, watchSavings } from "../resolvers/buckets.js";
import type { JobState, SavingsProgress as Progress } from "../services/savings/types.js";
import { builder } from "./builder.js";

const JobStateEnum = builder.enumType("JobState", {
  values: ["IDLE", "RUNNING", "DONE", "FAILED", "CANCELLED"] as const satisfies readonly JobState[],
});

interface Job {
  taskId: string;
  bucket: string;
  state: JobState;
}

const SavingsJob = builder.objectRef<Job>("SavingsJob").implement({
  description: "A bucket's savings scan, started or joined",
  fields: (t) => ({
    taskId: t.exposeString("taskId", { description: "The job's id; concurrent starts for one bucket share it" }),
    bucket: t.exposeString("bucket", { description: "The bucket scanned" }),
    state: t.field({
      type: JobStateEnum,
      description: "The job's state when the mutation answered",
      resolve: (j) => j.state,
    }),
  }),
});

const SavingsProgress = builder.objectRef<Progress>("SavingsProgress").implement({
  description:
    "Live progress of a bucket's savings scan. A subscription first gets the bucket's current state (the running job, or IDLE with the last result), then progress, then one DONE, FAILED or CANCELLED",
  fields: (t) => ({
    taskId: t.exposeString("taskId"),
    bucket: t.exposeString("bucket"),
    state: t.field({ type: JobStateEnum, resolve: (p) => p.state }),
    scannedObjects: t.field({
      type: "SafeInt",
      description: "Objects scanned so far by this job",
      resolve: (p) => p.scannedObjects,
    }),
    objectCount: t.field({ type: "SafeInt", resolve: (p) => p.objectCount }),
    originalBytes: t.field({ type: "SafeInt", resolve: (p) => p.originalBytes }),
    storedBytes: t.field({ type: "SafeInt", resolve: (p) => p.storedBytes }),
    savingsPct: t.exposeFloat("savingsPct"),
    errorCode: t.string({
      nullable: true,
      description: "Why a FAILED job failed (an error code)",
      resolve: (p) => p.errorCode,
    }),
    computedAt: t.field({ type: "DateTime", nullable: true, resolve: (p) => p.computedAt }),
  }),
});

// Mutation#computeSavings
const ComputeSavingsInput = builder.inputType("ComputeSavingsInput", {
  description: "The bucket to scan",
  fields: (t) => ({ bucket: t.string({ required: true, description: "The bucket to scan" }) }),
});

const ComputeSavingsPayload = builder.objectRef<{ job: Job }>("ComputeSavingsPayload").implement({
  description: "The scan started or joined",
  fields: (t) => ({
    job: t.field({ type: SavingsJob, description: "Follow it with `savingsProgress`", resolve: (p) => p.job }),
  }),
});

builder.mutationField("computeSavings", (t) =>
  t.field({
    type: ComputeSavingsPayload,
    description: "Starts (or joins) the scan that computes a bucket's savings; follow it with `savingsProgress`",
    args: { input: t.arg({ type: ComputeSavingsInput, required: true, description: "The bucket" }) },
    resolve: async (_root, { input }, ctx) => ({ job: await startSavings(input.bucket, ctx) }),
  }),
);

// Subscription#savingsProgress: the current state first (the running job, or IDLE with the last result), then the
// progress of the running or next job, then its one terminal event. Unknown and hidden buckets: bucket_not_found.
builder.subscriptionField("savingsProgress", (t) =>
  t.field({
    type: SavingsProgress,
    description: "A bucket's savings progress: its current state first, then progress, then one terminal event",
    args: { bucket: t.arg.string({ required: true, description: "The bucket to follow" }) },
    subscribe: (_root, args, ctx) => watchSavings(args.bucket, ctx),
    resolve: (progress) => progress,
  }),
);
