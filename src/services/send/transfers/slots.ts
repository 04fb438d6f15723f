import { randomUUID } from "node:crypto";
import { GliderError, isGliderError } from "../../errors.js";
import { type ConditionalWriteProbe, declaredConditionalWrites } from "../../storage/conditional-writes.js";
import type { TransferCore } from "./core.js";
import { transferKeys as keys } from "./ids.js";
import { refuseUnavailable } from "./rules.js";
import type { TransferRecord } from "./types.js";

/** A byte download's claim on a slot: `claim` tells its holder apart, `heartbeatAt` (wall clock) proves it alive. */
interface SlotClaim {
  at: number;
  via: "bytes" | "presigned";
  claim?: string;
  heartbeatAt?: number;
}

export interface SlotOptions {
  /** Whether the store enforces If-None-Match (probed); default: the store's declared capability. */
  conditionalWrites?: ConditionalWriteProbe;
  /** A claim not renewed for this long is released to the next download. @default 60000 */
  slotTimeoutMs?: number;
}

/**
 * The download-slot protocol. A limited transfer has slots 1..maxDownloads. A download claims `slots/<n>` with a
 * conditional create (atomic in every backend, across processes too), commits it with `slots/<n>.done`, or releases
 * it by deleting the claim. The limit therefore holds even when two instances race; the record's counters are a
 * cache of the slots.
 */
export interface Slots {
  readonly slotTimeoutMs: number;
  /** Refuses a limited transfer (`unsupported`) on a store whose conditional creates are not atomic. */
  assertAtomicSlots(maxDownloads: number, transferId?: string): Promise<void>;
  /** Claims a free slot (null for an unlimited transfer); `conflict` when all are taken, exhausted when all done. */
  claimSlot(record: TransferRecord, via: "bytes" | "presigned", claim?: string): Promise<number | null>;
  /** Recomputes the record's counters from the slots; true when the transfer just became exhausted. */
  refreshCounts(record: TransferRecord): Promise<boolean>;
  holdsSlot(id: string, slot: number, claim: string): Promise<boolean>;
  renewSlot(id: string, slot: number, claim: string): Promise<boolean>;
  newClaim(): string;
}

export function createSlots(core: TransferCore, options: SlotOptions = {}): Slots {
  const { system, store, logger, now, withLock } = core;
  const conditional = store.capabilities.conditionalPut ? ("*" as const) : undefined;
  const conditionalWrites = options.conditionalWrites ?? declaredConditionalWrites(store);
  const slotTimeoutMs = options.slotTimeoutMs ?? 60_000;

  /**
   * Download slots are only safe where a conditional create is atomic. On a store that ignores If-None-Match two
   * downloads could claim the same slot, so limited transfers are refused there rather than over-served.
   */
  async function assertAtomicSlots(maxDownloads: number, transferId?: string): Promise<void> {
    if (maxDownloads === 0 || (await conditionalWrites.support()).ifNoneMatch) return;
    throw new GliderError(
      "unsupported",
      "this object store ignores conditional writes (If-None-Match), so download limits cannot be enforced; " +
        "create the transfer with max_downloads: 0 (unlimited) or use a store that enforces them",
      { parameter: "max_downloads", max_downloads: maxDownloads, transfer_id: transferId, conditional_writes: false },
    );
  }

  async function readSlots(id: string): Promise<{ claimed: Set<number>; done: Set<number> }> {
    const claimed = new Set<number>();
    const done = new Set<number>();
    const prefix = keys.slots(id);
    for (const key of await system.listKeys(prefix)) {
      const name = key.slice(prefix.length);
      const n = Number.parseInt(name, 10);
      if (!Number.isInteger(n)) continue;
      if (name.endsWith(".done")) done.add(n);
      else claimed.add(n);
    }
    return { claimed, done };
  }

  /**
   * A claimed slot that is not done and whose byte download stopped renewing it (its instance died) is deleted so it
   * can be claimed again; runs under the transfer's lock. Returns the slot freed, or 0.
   */
  async function releaseStaleSlot(id: string, claimed: Set<number>, done: Set<number>): Promise<number> {
    const at = Date.now();
    for (const n of claimed) {
      if (done.has(n)) continue;
      const claim = await system.readJson<SlotClaim>(keys.slot(id, n));
      if (claim?.via !== "bytes" || claim.heartbeatAt === undefined) continue;
      if (at - claim.heartbeatAt < slotTimeoutMs) continue;
      await system.delete(keys.slot(id, n));
      logger.warn(
        { transfer_id: id, slot: n, silent_ms: at - claim.heartbeatAt },
        "released a download slot whose holder stopped renewing it",
      );
      return n;
    }
    return 0;
  }

  async function claimSlot(record: TransferRecord, via: "bytes" | "presigned", claim?: string): Promise<number | null> {
    if (record.maxDownloads === 0) return null;
    await assertAtomicSlots(record.maxDownloads, record.id);
    for (let attempt = 0; attempt < 5; attempt++) {
      const { claimed, done } = await readSlots(record.id);
      if (done.size >= record.maxDownloads) refuseUnavailable({ ...record, status: "exhausted" }, now());
      let free = 0;
      for (let n = 1; n <= record.maxDownloads; n++) {
        if (!claimed.has(n)) {
          free = n;
          break;
        }
      }
      if (free === 0) free = await releaseStaleSlot(record.id, claimed, done);
      if (free === 0) {
        throw new GliderError("conflict", "every remaining download is in progress; try again later", {
          transfer_id: record.id,
          downloads_in_progress: claimed.size - done.size,
        });
      }
      try {
        const body: SlotClaim = { at: now(), via };
        if (claim) Object.assign(body, { claim, heartbeatAt: Date.now() });
        await system.writeJson(keys.slot(record.id, free), body, { ifNoneMatch: conditional });
        return free;
      } catch (error) {
        // Another instance took this slot between our listing and our write: look again.
        if (isGliderError(error) && error.code === "precondition_failed") continue;
        throw error;
      }
    }
    throw new GliderError("conflict", "too many concurrent downloads; try again", { transfer_id: record.id });
  }

  /** Recomputes the counters from the slots; a completed transfer whose slots are all done becomes exhausted. */
  async function refreshCounts(record: TransferRecord): Promise<boolean> {
    if (record.maxDownloads === 0) return false;
    const { claimed, done } = await readSlots(record.id);
    record.downloads = done.size;
    record.downloadsInProgress = claimed.size - done.size;
    if (record.status === "completed" && record.downloads >= record.maxDownloads) {
      record.status = "exhausted";
      return true;
    }
    return false;
  }

  /** Whether the slot still carries this download's claim (false once released as stale and claimed again). */
  async function holdsSlot(id: string, slot: number, claim: string): Promise<boolean> {
    return (await system.readJson<SlotClaim>(keys.slot(id, slot)))?.claim === claim;
  }

  /** Renews the claim (under the lock); false when the slot was released meanwhile and belongs to another download. */
  function renewSlot(id: string, slot: number, claim: string): Promise<boolean> {
    return withLock(id, async () => {
      const current = await system.readJson<SlotClaim>(keys.slot(id, slot));
      if (current?.claim !== claim) return false;
      await system.writeJson(keys.slot(id, slot), { ...current, heartbeatAt: Date.now() });
      return true;
    });
  }

  /** A fresh claim id for a byte download, so its holder can tell its slot apart after a stale release. */
  const newClaim = () => randomUUID();

  return { slotTimeoutMs, assertAtomicSlots, claimSlot, refreshCounts, holdsSlot, renewSlot, newClaim };
}
