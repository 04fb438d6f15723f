import type { TransfersService } from "./contract.js";
import type { TransferCore } from "./core.js";
import { isTransferId, transferKeys as keys } from "./ids.js";
import { FINISHED, LIVE } from "./rules.js";
import type { SweepReport, TransferRecord } from "./types.js";

/** The sweep: marks expired transfers and deletes the payloads of finished ones; busy transfers wait for the next. */
export function createSweep(core: TransferCore): TransfersService["sweep"] {
  const { system, logger, now, lockOf, withLock, save, act, activeUploads } = core;

  async function sweepOne(id: string, report: SweepReport): Promise<void> {
    await withLock(id, async () => {
      const record = await system.readJson<TransferRecord>(keys.record(id));
      if (!record) return;
      const at = now();
      let changed = false;
      if (LIVE.includes(record.status) && at >= record.expiresAt) {
        record.status = "expired";
        changed = true;
        report.expired += 1;
        await act(record, "transfer.expired", "system", { expires_at: new Date(record.expiresAt).toISOString() });
      }
      if (
        FINISHED.includes(record.status) &&
        record.payloadDeletedAt === null &&
        (record.payloadDeleteAfter ?? 0) <= at
      ) {
        await system.delete(keys.payload(id));
        record.payloadDeletedAt = at;
        changed = true;
        report.payloadsDeleted += 1;
        await act(record, "payload.swept", "system", { reason: record.status });
      }
      if (changed) await save(record);
    });
  }

  return async function sweep() {
    const report: SweepReport = { scanned: 0, expired: 0, payloadsDeleted: 0 };
    const ids = (await system.listFolders("transfers/"))
      .map((folder) => folder.slice("transfers/".length, -1))
      .filter(isTransferId);
    for (const id of ids) {
      // Busy transfers are taken next time; a sweep never waits behind a download or an upload.
      if (system.isLocked(lockOf(id)) || activeUploads.has(id)) continue;
      report.scanned += 1;
      try {
        await sweepOne(id, report);
      } catch (error) {
        logger.error({ err: error, transfer_id: id }, "sweeping a transfer failed");
      }
    }
    return report;
  };
}
