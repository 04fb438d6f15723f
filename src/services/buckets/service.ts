import { LRUCache } from "lru-cache";
import { assertBucket } from "../bucket-ops/listing.js";
import { mapWithConcurrency } from "../concurrency.js";
import type { Catalogue, LogicalEntry } from "../deltaglider/catalogue.js";
import type { DeltaGlider } from "../deltaglider/index.js";
import { deltaSpaceOf, isHousekeepingKey, isReferenceKey } from "../deltaglider/keys.js";
import { GliderError, isGliderError } from "../errors.js";
import type { ObjectsService } from "../objects/service.js";
import { savingsPct } from "../savings/compute.js";
import type { SavingsFacade } from "../savings/shared.js";
import { assertValidBucketName } from "../storage/keys.js";
import type { ObjectStore } from "../storage/object-store.js";

/**
 * How bucket figures are computed (`GET /api/buckets/{b}/stats?mode=`):
 * - `quick`: one LIST of the bucket, no HEAD. Object count and stored bytes are exact; a delta's original size is
 *   estimated as the size of its reference (the first version of the same file).
 * - `sampled`: `quick` plus a HEAD of at most {@link SAMPLE_SIZE} deltas picked at random; the measured
 *   original/estimate ratio corrects every delta's estimate. Exact when the bucket has at most that many deltas.
 * - `detailed`: a full savings scan (one HEAD per delta, the on-demand savings job): exact.
 */
export const STATS_MODES = ["quick", "sampled", "detailed"] as const;
export type StatsMode = (typeof STATS_MODES)[number];
export const SAMPLE_SIZE = 100;

const RANK: Record<StatsMode, number> = { quick: 0, sampled: 1, detailed: 2 };

export interface BucketFigures {
  name: string;
  objectCount: number;
  originalBytes: number;
  storedBytes: number;
  savingsPct: number;
  /** How the figures were computed; `quick` with `loaded: false` when nothing was computed yet (all zeros). */
  mode: StatsMode;
  loaded: boolean;
  /** The bucket changed after the figures were computed: kept, but no longer exact. */
  stale: boolean;
  /** A savings scan of the bucket is queued or running. */
  pending: boolean;
  computedAt?: Date;
}

interface Entry {
  objectCount: number;
  originalBytes: number;
  storedBytes: number;
  mode: StatsMode;
  computedAt: Date;
  stale: boolean;
}

export interface BucketsDeps {
  store: ObjectStore;
  objects: ObjectsService;
  /** Local jobs, or shared through Redis when several instances run (its status may be asynchronous). */
  savings: SavingsFacade;
  catalogue: Catalogue;
  deltaglider: DeltaGlider;
}

export interface BucketsOptions {
  hiddenBuckets: readonly string[];
  /** HEADs in flight for `sampled`. @default 16 */
  headConcurrency?: number;
  now?: () => number;
}

export function parseStatsMode(value: unknown, fallback: StatsMode = "sampled"): StatsMode {
  if (value === undefined || value === null || value === "") return fallback;
  const mode = String(value).toLowerCase();
  if ((STATS_MODES as readonly string[]).includes(mode)) return mode as StatsMode;
  throw new GliderError("invalid_request", `mode must be one of ${STATS_MODES.join(", ")}`, { parameter: "mode" });
}

/** Bucket administration and figures for the Commander UI, per connection. */
export interface BucketsService {
  /** Every visible bucket with the figures known so far: no storage call beyond ListBuckets. */
  list(signal?: AbortSignal): Promise<BucketFigures[]>;
  /**
   * The one bucket-plus-savings view both front doors show: the freshest figures known (a savings scan, else cached
   * stats; `loaded: false` and zeros when none) and whether a scan is pending. No storage call.
   */
  view(bucket: string): Promise<BucketFigures>;
  /** Figures at least as exact as `mode`, computed when the cached ones are not; `bucket_not_found` if hidden/missing. */
  stats(bucket: string, mode: StatsMode, signal?: AbortSignal): Promise<BucketFigures>;
  /** Recomputes every visible bucket in `mode`; a failing bucket keeps its previous figures. */
  refresh(mode: StatsMode, signal?: AbortSignal): Promise<BucketFigures[]>;
  /** `bucket_exists` for an existing (or hidden) name, `invalid_bucket_name` for a bad one. */
  create(bucket: string, signal?: AbortSignal): Promise<void>;
  /** Deletes an empty bucket (`bucket_not_empty` otherwise; DeltaGlider leftovers go with it). */
  remove(bucket: string, signal?: AbortSignal): Promise<void>;
  /** Keeps the bucket's figures but marks them no longer exact (it changed). */
  markStale(bucket: string): void;
}

export function createBucketsService(deps: BucketsDeps, options: BucketsOptions): BucketsService {
  const { store, objects, savings, catalogue } = deps;
  const now = options.now ?? Date.now;
  const headConcurrency = options.headConcurrency ?? 16;
  const figures = new LRUCache<string, Entry>({ max: 10_000 });
  /** Bumped by every change, so a computation that overlapped a change stores stale figures. */
  const generations = new Map<string, number>();
  const computing = new Map<string, Promise<Entry>>();

  function hidden(bucket: string) {
    return options.hiddenBuckets.includes(bucket);
  }

  /**
   * The one bucket-plus-savings view both front doors show (REST's bucket JSON, GraphQL's `Bucket` figures): the
   * freshest figures known (a savings scan, else cached stats), whether a scan is pending. No storage call.
   */
  async function view(name: string): Promise<BucketFigures> {
    const status = await savings.status(name);
    const pending = status.pending || [...computing.keys()].some((id) => id.startsWith(`${name}\0`));
    const cached = figures.get(name);
    // Fresh savings-scan figures (they are dropped on change) win over anything older.
    if (status.figures && (!cached || cached.stale || cached.computedAt <= status.figures.computedAt)) {
      const f = status.figures;
      return {
        name,
        objectCount: f.objectCount,
        originalBytes: f.originalBytes,
        storedBytes: f.storedBytes,
        savingsPct: f.savingsPct,
        mode: "detailed",
        loaded: true,
        stale: false,
        pending,
        computedAt: f.computedAt,
      };
    }
    if (cached) {
      return {
        name,
        objectCount: cached.objectCount,
        originalBytes: cached.originalBytes,
        storedBytes: cached.storedBytes,
        savingsPct: savingsPct(cached.originalBytes, cached.storedBytes),
        mode: cached.mode,
        loaded: true,
        stale: cached.stale,
        pending,
        computedAt: cached.computedAt,
      };
    }
    return {
      name,
      objectCount: 0,
      originalBytes: 0,
      storedBytes: 0,
      savingsPct: 0,
      mode: "quick",
      loaded: false,
      stale: false,
      pending,
    };
  }

  /** Every visible bucket with the figures known so far: no storage call beyond ListBuckets. */
  async function list(signal?: AbortSignal): Promise<BucketFigures[]> {
    return Promise.all((await objects.buckets(signal)).map((b) => view(b.name)));
  }

  function assertExists(bucket: string, signal?: AbortSignal) {
    return assertBucket(store, bucket, options.hiddenBuckets, signal);
  }

  async function listingFigures(bucket: string, mode: "quick" | "sampled", signal?: AbortSignal) {
    let objectCount = 0;
    let storedBytes = 0;
    let directBytes = 0;
    /** Deltas per delta space (count and the reservoir sample), and each space's reference size. */
    const spaces = new Map<string, number>();
    const referenceSizes = new Map<string, number>();
    const sample: LogicalEntry[] = [];
    let deltas = 0;
    for await (const page of catalogue.walk(bucket, "", signal)) {
      storedBytes += page.physicalBytes;
      for (const ref of page.references) referenceSizes.set(deltaSpaceOf(ref.key), ref.size);
      for (const entry of page.entries) {
        objectCount++;
        if (!entry.compressed) {
          directBytes += entry.storedBytes;
          continue;
        }
        deltas++;
        const space = deltaSpaceOf(entry.physicalKey);
        spaces.set(space, (spaces.get(space) ?? 0) + 1);
        if (sample.length < SAMPLE_SIZE) sample.push(entry);
        else {
          const slot = Math.floor(Math.random() * deltas);
          if (slot < SAMPLE_SIZE) sample[slot] = entry;
        }
      }
    }
    const estimateOf = (entry: LogicalEntry) =>
      referenceSizes.get(deltaSpaceOf(entry.physicalKey)) ?? entry.storedBytes;
    let deltaEstimate = 0;
    for (const [space, count] of spaces) deltaEstimate += count * (referenceSizes.get(space) ?? 0);
    let deltaBytes = deltaEstimate;
    if (mode === "sampled" && sample.length > 0) {
      const described = await mapWithConcurrency(sample, headConcurrency, async (entry) => {
        try {
          return { entry, original: (await catalogue.describe(bucket, entry, signal)).originalBytes };
        } catch (error) {
          // Deleted between LIST and HEAD: left out of the sample.
          if (isGliderError(error) && error.code === "key_not_found") return undefined;
          throw error;
        }
      });
      const answered = described.filter((d) => d !== undefined);
      if (deltas <= SAMPLE_SIZE) {
        deltaBytes = answered.reduce((sum, d) => sum + d.original, 0);
      } else {
        const measured = answered.reduce((sum, d) => sum + d.original, 0);
        const estimated = answered.reduce((sum, d) => sum + estimateOf(d.entry), 0);
        if (estimated > 0) deltaBytes = Math.round(deltaEstimate * (measured / estimated));
      }
    }
    return { objectCount, storedBytes, originalBytes: directBytes + deltaBytes };
  }

  async function detailedFigures(bucket: string, signal?: AbortSignal) {
    const job = await savings.start(bucket);
    for await (const event of savings.watch(bucket, signal)) {
      if (event.taskId !== job.taskId || event.state === "RUNNING") continue;
      if (event.state === "DONE") {
        return { objectCount: event.objectCount, originalBytes: event.originalBytes, storedBytes: event.storedBytes };
      }
      throw new GliderError(
        event.state === "FAILED" ? "storage_unavailable" : "timeout",
        `the savings scan of "${bucket}" ended ${event.state}`,
        { bucket, reason: event.errorCode },
      );
    }
    signal?.throwIfAborted();
    throw new GliderError("internal", `the savings scan of "${bucket}" ended without a result`, { bucket });
  }

  async function compute(bucket: string, mode: StatsMode, signal?: AbortSignal): Promise<Entry> {
    const id = `${bucket}\0${mode}`;
    let running = computing.get(id);
    if (!running) {
      const generation = generations.get(bucket) ?? 0;
      running = (async () => {
        const result =
          mode === "detailed" ? await detailedFigures(bucket, signal) : await listingFigures(bucket, mode, signal);
        const entry: Entry = {
          ...result,
          mode,
          computedAt: new Date(now()),
          stale: (generations.get(bucket) ?? 0) !== generation,
        };
        const previous = figures.get(bucket);
        // Never replace fresh, more exact figures by rougher ones.
        if (!previous || previous.stale || RANK[previous.mode] <= RANK[mode] || entry.stale === false) {
          figures.set(bucket, entry);
        }
        return entry;
      })();
      computing.set(id, running);
      running.finally(() => computing.delete(id)).catch(() => undefined);
    }
    return running;
  }

  /** Figures of one bucket at least as exact as `mode`: cached ones when fresh, computed otherwise. */
  async function stats(bucket: string, mode: StatsMode, signal?: AbortSignal): Promise<BucketFigures> {
    await assertExists(bucket, signal);
    const current = await view(bucket);
    if (current.loaded && !current.stale && RANK[current.mode] >= RANK[mode]) return current;
    await compute(bucket, mode, signal);
    return view(bucket);
  }

  /** Recomputes every visible bucket in `mode` (two at a time); a failing bucket keeps its previous figures. */
  async function refresh(mode: StatsMode, signal?: AbortSignal): Promise<BucketFigures[]> {
    const names = (await objects.buckets(signal)).map((b) => b.name);
    for (const name of names) markStale(name);
    await mapWithConcurrency(names, 2, async (name) => {
      try {
        await compute(name, mode, signal);
      } catch (error) {
        if (signal?.aborted) throw error;
      }
    });
    return Promise.all(names.map(view));
  }

  function markStale(bucket: string) {
    generations.set(bucket, (generations.get(bucket) ?? 0) + 1);
    const entry = figures.get(bucket);
    if (entry) entry.stale = true;
  }

  async function create(bucket: string, signal?: AbortSignal): Promise<void> {
    assertValidBucketName(bucket);
    if (hidden(bucket) || (await store.bucketExists(bucket, signal))) {
      throw new GliderError("bucket_exists", `bucket "${bucket}" already exists`, { bucket });
    }
    await store.createBucket(bucket);
    figures.set(bucket, {
      objectCount: 0,
      originalBytes: 0,
      storedBytes: 0,
      mode: "detailed",
      computedAt: new Date(now()),
      stale: false,
    });
  }

  /**
   * Deletes an empty bucket. A bucket holding any logical object is refused with `bucket_not_empty`; DeltaGlider's
   * own leftovers (a `reference.bin` whose deltas are all gone, `.deltaglider/` housekeeping) do not count and go
   * with the bucket.
   */
  async function remove(bucket: string, signal?: AbortSignal): Promise<void> {
    await assertExists(bucket, signal);
    const leftovers: string[] = [];
    for await (const page of catalogue.physicalPages(bucket, "", undefined, signal)) {
      for (const object of page.objects) {
        if (isReferenceKey(object.key) || isHousekeepingKey(object.key)) {
          leftovers.push(object.key);
          continue;
        }
        throw new GliderError("bucket_not_empty", `bucket "${bucket}" is not empty: delete its objects first`, {
          bucket,
        });
      }
    }
    for (const key of leftovers) await store.deleteObject(bucket, key, signal);
    await store.deleteBucket(bucket, signal);
    figures.delete(bucket);
    generations.delete(bucket);
    objects.invalidate(bucket);
  }

  return { list, view, stats, refresh, create, remove, markStale };
}
