import { GliderError } from "../../errors.js";
import type { GetObjectResult } from "../../storage/object-store.js";
import type { Actor } from "../audit/types.js";
import type { TransfersService } from "./contract.js";
import type { TransferCore } from "./core.js";
import { assertTransferId, transferKeys as keys } from "./ids.js";
import { PAYLOAD_TYPE, refuseUnavailable } from "./rules.js";
import type { Slots } from "./slots.js";
import { meterDownload } from "./streams.js";
import type { TransferRecord } from "./types.js";

const DOWNLOAD_URL_MAX_SECONDS = 60;

export interface Downloads extends Pick<TransfersService, "createDownloadUrl" | "openDownload"> {
  /** Removes the payload now, unless a presigned URL still running needs it (then the sweeper does it later). */
  dropPayload(record: TransferRecord, reason: string, actor: Actor): Promise<void>;
}

/** Downloads: presigned URLs (counted when issued) and byte streams (counted when the last byte is read). */
export function createDownloads(core: TransferCore, slots: Slots): Downloads {
  const { system, store, bucket, mode, logger, now, presignTtlSeconds, withLock, load, save, act, toView } = core;
  const { claimSlot, refreshCounts, holdsSlot, renewSlot, slotTimeoutMs } = slots;
  const ttlWithin = core.ttlWithin;
  const track = core.inFlight.track;

  /** Removes the payload now, unless a presigned URL still running needs it (then the sweeper does it later). */
  async function dropPayload(record: TransferRecord, reason: string, actor: Actor): Promise<void> {
    const at = now();
    if (record.presignedUntil !== null && record.presignedUntil > at && reason === "exhausted") {
      record.payloadDeleteAfter = record.presignedUntil;
      return;
    }
    record.payloadDeleteAfter = at;
    await system.delete(keys.payload(record.id));
    record.payloadDeletedAt = at;
    await act(record, "payload.deleted", actor, { reason });
  }

  async function finishDownload(id: string, slot: number | null, completed: boolean, claim?: string): Promise<void> {
    await withLock(id, async () => {
      if (slot !== null) {
        // A slot released as stale (this instance stalled past the timeout) is another download's now: leave it.
        const held = claim === undefined || (await holdsSlot(id, slot, claim));
        if (!held) {
          logger.error({ transfer_id: id, slot }, "a download ended after its slot was released as stale; not counted");
        } else if (completed) await system.writeJson(keys.slotDone(id, slot), { at: now() });
        else await system.delete(keys.slot(id, slot));
      }
      const record = await load(id);
      let exhausted = false;
      if (slot === null) {
        record.downloadsInProgress = Math.max(0, record.downloadsInProgress - 1);
        if (completed) record.downloads += 1;
      } else {
        exhausted = await refreshCounts(record);
      }
      await act(record, completed ? "download.completed" : "download.cancelled", "public", { via: "bytes", slot });
      if (exhausted) await dropPayload(record, "exhausted", "system");
      await save(record);
    });
  }

  return {
    dropPayload,

    async createDownloadUrl(id) {
      if (mode !== "presigned") {
        throw new GliderError("unsupported", "this storage backend cannot presign URLs; use payload/download-bytes");
      }
      assertTransferId(id);
      return withLock(id, async () => {
        const record = await load(id);
        refuseUnavailable(record, now());
        if (record.status !== "completed") {
          throw new GliderError("invalid_state", "the upload is not complete yet", { status: record.status });
        }
        const ttl = ttlWithin(record, Math.min(presignTtlSeconds, DOWNLOAD_URL_MAX_SECONDS));
        const slot = await claimSlot(record, "presigned");
        let url: string;
        try {
          url = await store.presign({
            method: "GET",
            bucket,
            key: keys.payload(id),
            expiresInSeconds: ttl,
            responseContentDisposition: "attachment",
          });
        } catch (error) {
          if (slot !== null) await system.delete(keys.slot(id, slot));
          throw error;
        }
        // A presigned URL cannot tell us when (or whether) it is used: it counts when issued.
        if (slot !== null) await system.writeJson(keys.slotDone(id, slot), { at: now(), via: "presigned" });
        const expiresAt = now() + ttl * 1000;
        record.presignedUntil = Math.max(record.presignedUntil ?? 0, expiresAt);
        let exhausted = false;
        if (slot === null) record.downloads += 1;
        else exhausted = await refreshCounts(record);
        await act(record, "download.url_issued", "public", {
          via: "presigned",
          slot,
          expires_at: new Date(expiresAt).toISOString(),
        });
        if (exhausted) await dropPayload(record, "exhausted", "system");
        await save(record);
        return { transfer: toView(record), url, expiresAt: new Date(expiresAt) };
      });
    },

    async openDownload(id, signal) {
      assertTransferId(id);
      const claim = slots.newClaim();
      const { record, slot } = await withLock(id, async () => {
        const record = await load(id);
        refuseUnavailable(record, now());
        if (record.status !== "completed") {
          throw new GliderError("invalid_state", "the upload is not complete yet", { status: record.status });
        }
        const slot = await claimSlot(record, "bytes", claim);
        if (slot === null) record.downloadsInProgress += 1;
        else await refreshCounts(record);
        await save(record);
        await act(record, "download.started", "public", { via: "bytes", slot });
        return { record, slot };
      });
      let object: GetObjectResult;
      try {
        object = await store.getObject({ bucket, key: keys.payload(id), signal });
      } catch (error) {
        await track(id, finishDownload(id, slot, false, claim));
        throw error;
      }
      // Renew the claim while the bytes flow; a claim lost to a stale-slot release ends this download.
      let heartbeat: NodeJS.Timeout | undefined;
      const stop = () => clearInterval(heartbeat);
      const body = meterDownload(object.body, {
        onEnd: () => {
          stop();
          return track(id, finishDownload(id, slot, true, claim));
        },
        onAbort: () => {
          stop();
          return track(id, finishDownload(id, slot, false, claim));
        },
        onHookError: (error) => logger.error({ err: error, transfer_id: id }, "download bookkeeping failed"),
      });
      if (slot !== null) {
        heartbeat = setInterval(
          () => {
            renewSlot(id, slot, claim).then(
              (held) => {
                if (!held) body.destroy(new GliderError("conflict", "this download's slot was released", { slot }));
              },
              (error) => logger.warn({ err: error, transfer_id: id, slot }, "could not renew a download slot"),
            );
          },
          Math.max(100, Math.floor(slotTimeoutMs / 3)),
        );
        heartbeat.unref();
      }
      return { transfer: toView(record), contentLength: object.contentLength, contentType: PAYLOAD_TYPE, body };
    },
  };
}
