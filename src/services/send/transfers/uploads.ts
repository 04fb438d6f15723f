import { GliderError, isGliderError } from "../../errors.js";
import type { TransfersService } from "./contract.js";
import type { TransferCore } from "./core.js";
import { assertTransferId, transferKeys as keys, newTransferId } from "./ids.js";
import { checkCreateInput } from "./inputs.js";
import { assertOwner, PAYLOAD_TYPE, refuseUnavailable } from "./rules.js";
import type { Slots } from "./slots.js";
import { limitBytes } from "./streams.js";
import type { TransferRecord, UploadTarget } from "./types.js";

/** The sender's side: create (counted against the token), upload the bytes, complete (size checked). */
export function createUploads(
  core: TransferCore,
  slots: Pick<Slots, "assertAtomicSlots">,
): Pick<TransfersService, "create" | "uploadBytes" | "completeUpload"> {
  const { system, store, bucket, mode, tokens, logger, now, maxBytes, presignTtlSeconds, activeUploads } = core;
  const { withLock, load, save, act, toView, ttlWithin } = core;
  const conditional = store.capabilities.conditionalPut ? ("*" as const) : undefined;

  async function uploadTarget(record: TransferRecord): Promise<UploadTarget> {
    if (mode === "bytes") return { mode: "bytes" };
    const ttl = ttlWithin(record, presignTtlSeconds);
    const url = await store.presign({
      method: "PUT",
      bucket,
      key: keys.payload(record.id),
      expiresInSeconds: ttl,
      contentType: PAYLOAD_TYPE,
    });
    return {
      mode: "presigned",
      method: "PUT",
      url,
      headers: { "content-type": PAYLOAD_TYPE },
      expiresAt: new Date(now() + ttl * 1000),
    };
  }

  async function discardFailedUpload(id: string): Promise<void> {
    await withLock(id, async () => {
      await system.delete(keys.payload(id));
      const record = await load(id);
      if (record.status === "uploaded") {
        record.status = "pending";
        record.uploadedBytes = null;
        await save(record);
      }
    });
  }

  return {
    async create(sender, input) {
      const {
        size,
        contentType,
        maxDownloads,
        expiresInSeconds: expiresIn,
        deleteAuthHash,
      } = checkCreateInput(input, maxBytes);
      await slots.assertAtomicSlots(maxDownloads);
      await tokens.consume(sender.tokenId, size);
      const at = now();
      const record: TransferRecord = {
        v: 1,
        id: newTransferId(),
        tokenId: sender.tokenId,
        status: "pending",
        size,
        contentType,
        createdAt: at,
        updatedAt: at,
        expiresAt: at + expiresIn * 1000,
        completedAt: null,
        maxDownloads,
        downloads: 0,
        downloadsInProgress: 0,
        uploadedBytes: null,
        deleteAuthHash,
        presignedUntil: null,
        payloadDeleteAfter: null,
        payloadDeletedAt: null,
      };
      try {
        await system.writeJson(keys.record(record.id), record, { ifNoneMatch: conditional });
      } catch (error) {
        await tokens.refund(sender.tokenId, size).catch((e) => logger.error({ err: e }, "token refund failed"));
        throw error;
      }
      await act(record, "transfer.created", "sender", {
        size,
        content_type: contentType,
        max_downloads: maxDownloads,
        expires_at: new Date(record.expiresAt).toISOString(),
        mode,
      });
      return { transfer: toView(record, at), upload: await uploadTarget(record) };
    },

    async uploadBytes(sender, id, body, signal) {
      assertTransferId(id);
      await withLock(id, async () => {
        const record = await load(id);
        assertOwner(record, sender);
        await tokens.assertActive(sender.tokenId);
        refuseUnavailable(record, now());
        if (record.status !== "pending" && record.status !== "uploaded") {
          throw new GliderError("invalid_state", `cannot upload to a ${record.status} transfer`, {
            status: record.status,
          });
        }
        if (activeUploads.has(id)) {
          throw new GliderError("invalid_state", "an upload to this transfer is already in progress");
        }
        activeUploads.add(id);
      });
      try {
        const limited = limitBytes(body, maxBytes);
        let size: number;
        try {
          ({ size } = await store.putObject({
            bucket,
            key: keys.payload(id),
            body: limited.body,
            contentType: PAYLOAD_TYPE,
            // The client leaving cancels the PUT (and the store undoes it if it may have landed).
            signal,
          }));
        } catch (error) {
          await discardFailedUpload(id).catch((e) => logger.error({ err: e }, "could not discard a failed upload"));
          if (limited.exceeded()) {
            throw new GliderError("payload_too_large", `payload exceeds the ${maxBytes}-byte limit`, {
              max_bytes: maxBytes,
            });
          }
          throw error;
        }
        return await withLock(id, async () => {
          const record = await load(id);
          const at = now();
          if ((record.status !== "pending" && record.status !== "uploaded") || at >= record.expiresAt) {
            // Deleted or expired while the bytes were arriving: keep nothing.
            await system.delete(keys.payload(id));
            refuseUnavailable(record, at);
            throw new GliderError("invalid_state", `cannot upload to a ${record.status} transfer`);
          }
          record.status = "uploaded";
          record.uploadedBytes = size;
          await save(record);
          await act(record, "payload.uploaded", "sender", { bytes: size, via: "bytes" });
          return { transfer: toView(record), receivedBytes: size };
        });
      } finally {
        activeUploads.delete(id);
      }
    },

    async completeUpload(sender, id) {
      assertTransferId(id);
      return withLock(id, async () => {
        const record = await load(id);
        assertOwner(record, sender);
        await tokens.assertActive(sender.tokenId);
        refuseUnavailable(record, now());
        if (record.status === "completed") return toView(record);
        if (activeUploads.has(id)) throw new GliderError("invalid_state", "the upload is still in progress");
        let stored: number;
        try {
          stored = (await store.headObject(bucket, keys.payload(id))).size;
        } catch (error) {
          if (isGliderError(error) && error.code === "key_not_found") {
            throw new GliderError("invalid_state", "no payload has been uploaded yet", { status: record.status });
          }
          throw error;
        }
        if (stored > maxBytes || stored !== record.size) {
          await system.delete(keys.payload(id));
          record.status = "pending";
          record.uploadedBytes = null;
          await save(record);
          await act(record, "upload.rejected", "sender", { declared: record.size, actual: stored });
          if (stored > maxBytes) {
            throw new GliderError("payload_too_large", `payload exceeds the ${maxBytes}-byte limit`, {
              max_bytes: maxBytes,
              actual: stored,
            });
          }
          throw new GliderError("size_mismatch", `declared ${record.size} bytes but ${stored} were uploaded`, {
            declared: record.size,
            actual: stored,
          });
        }
        record.status = "completed";
        record.completedAt = now();
        record.uploadedBytes = stored;
        await save(record);
        await act(record, "upload.completed", "sender", { bytes: stored });
        return toView(record);
      });
    },
  };
}
