import { GliderError } from "../../errors.js";
import { constantTimeEqual, sha256Hex } from "../tokens/secret.js";
import type { TransfersService, TransfersServiceOptions } from "./contract.js";
import { createTransferCore } from "./core.js";
import { createDownloads } from "./downloads.js";
import { assertTransferId, isTransferId, transferKeys as keys } from "./ids.js";
import { checkDeleteAuth } from "./inputs.js";
import { createReads } from "./reads.js";
import { refuseUnavailable } from "./rules.js";
import { createSlots } from "./slots.js";
import { createSweep } from "./sweep.js";
import { type Sweeper, startSweeper } from "./sweeper.js";
import { createUploads } from "./uploads.js";

export type { TransfersService, TransfersServiceOptions } from "./contract.js";

/**
 * Send transfers, composed from their parts: the sender's uploads (uploads.ts), the download-slot protocol (slots.ts)
 * and downloads (downloads.ts), reads and stats (reads.ts), the sweep (sweep.ts), over the state rules (rules.ts) and
 * input checks (inputs.ts). Deleting, request records and the lifecycle live here.
 */
export function createTransfersService(options: TransfersServiceOptions): TransfersService {
  const core = createTransferCore(options);
  const { system, audit, logger, now, withLock, load, save, act, toView } = core;
  const slots = createSlots(core, {
    conditionalWrites: options.conditionalWrites,
    slotTimeoutMs: options.downloadSlotTimeoutMs,
  });
  const downloads = createDownloads(core, slots);
  const { dropPayload } = downloads;
  let sweeper: Sweeper | undefined;
  let closed = false;

  const service: TransfersService = {
    mode: core.mode,
    systemBucket: core.bucket,
    ...createUploads(core, slots),
    createDownloadUrl: downloads.createDownloadUrl,
    openDownload: downloads.openDownload,
    ...createReads(core),
    sweep: createSweep(core),

    async delete(id, deleteAuth) {
      assertTransferId(id);
      checkDeleteAuth(deleteAuth);
      return withLock(id, async () => {
        const record = await load(id);
        if (record.status === "deleted") refuseUnavailable(record, now());
        if (record.deleteAuthHash === null) {
          throw new GliderError("forbidden", "this transfer was created without a delete secret");
        }
        if (!constantTimeEqual(sha256Hex(deleteAuth), record.deleteAuthHash)) {
          throw new GliderError("forbidden", "wrong delete secret");
        }
        record.status = "deleted";
        await act(record, "transfer.deleted", "public");
        if (record.payloadDeletedAt === null) await dropPayload(record, "deleted", "public");
        await save(record);
        return toView(record);
      });
    },

    async recordRequest(input) {
      if (!isTransferId(input.transferId)) return;
      // Unknown ids get no folder: guessing ids must not grow the system bucket.
      if (!(await system.exists(keys.record(input.transferId)))) return;
      await audit.recordRequest(input);
    },

    async start() {
      if (closed) return;
      if (!sweeper && options.sweepIntervalMs) {
        sweeper = startSweeper(() => service.sweep(), options.sweepIntervalMs, logger);
      }
      // Storage being down at start-up is /ready's business, not a reason to refuse to start.
      await system.ensureBucket().catch((error) => {
        logger.warn({ err: error }, "system bucket not created yet; retrying on first use");
      });
    },

    async close() {
      closed = true;
      await sweeper?.stop();
      await core.inFlight.all();
      await audit.flush();
    },
  };

  return service;
}
