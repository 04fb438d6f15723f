import { createReadStream } from "node:fs";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crashPoint } from "../crash-points.js";
import { GliderError } from "../errors.js";
import { type ConditionalWriteProbe, declaredConditionalWrites } from "../storage/conditional-writes.js";
import type { ObjectStore, PutBody } from "../storage/object-store.js";
import { canRecompress, decompressIfFaithful, detectMagic } from "./compression.js";
import type { EncodePool } from "./encode-pool.js";
import { createGrowingFile } from "./growing-file.js";
import {
  assertWritableLogicalKey,
  baseName,
  DELTA_SUFFIX,
  deltaSpaceOf,
  isDeltaCandidate,
  REFERENCE_NAME,
  referenceKeyOf,
} from "./keys.js";
import { deltaMetadata, directMetadata, readDgMetadata } from "./metadata.js";
import type { ReferenceCache, ReferenceHandle } from "./reference-cache.js";
import { createReferenceWriter } from "./reference-writer.js";
import { type Spooled, spool } from "./spool.js";

export type StoredAs = "reference" | "delta" | "direct";

export interface UploadResult {
  key: string;
  storedAs: StoredAs;
  originalBytes: number;
  /** Bytes of the object's own physical object (the `.delta`, or the direct file). */
  storedBytes: number;
  physicalKey: string;
  /** ETag of the physical object as the store answered the PUT (the savings index keys on it). */
  etag?: string;
  sha256: string;
  /** delta size / file size when a delta was computed. */
  ratio?: number;
}

/** The part of a pino logger the uploader uses. */
export interface ErrorLog {
  error(fields: Record<string, unknown>, message: string): void;
}

export interface UploaderOptions {
  /** Store a direct file when delta/file is above this (the documented DG_MAX_RATIO guard). @default 0.5 */
  maxRatio?: number;
  tmpDir?: string;
  now?: () => Date;
  /** Where an encode that failed its proof is reported (error level). */
  logger?: ErrorLog;
  /** Called once per upload stored whole because its delta failed its proof (glider_encoder_fallbacks_total). */
  onEncoderFallback?: () => void;
  /** Whether the store enforces If-None-Match (probed); default: the store's declared capability. */
  conditionalWrites?: ConditionalWriteProbe;
}

/** Stores uploads exactly as the DeltaGlider CLI would (format doc §3), so either side reads what the other wrote. */
export interface Uploader {
  /**
   * Stores `body` under the logical key: the first file of a DeltaSpace becomes its reference (plus a delta), later
   * ones a `.delta` against it, other files (and deltas that do not pay, see `maxRatio`) a direct object. The body is
   * spooled to a private folder first (a new version of an uncompressed reference is encoded while it arrives);
   * `bucket_not_found` for a missing bucket, `invalid_key` for a key DeltaGlider cannot hold.
   */
  upload(bucket: string, key: string, body: PutBody, signal?: AbortSignal): Promise<UploadResult>;
}

export function createUploader(
  store: ObjectStore,
  references: ReferenceCache,
  pool: EncodePool,
  options: UploaderOptions = {},
): Uploader {
  const maxRatio = options.maxRatio ?? 0.5;
  const now = options.now ?? (() => new Date());
  const spoolRoot = options.tmpDir ?? tmpdir();
  const referenceWriter = createReferenceWriter(
    store,
    options.conditionalWrites ?? declaredConditionalWrites(store),
    now,
  );

  async function removeQuietly(bucket: string, key: string, signal?: AbortSignal) {
    await store.deleteObject(bucket, key, signal);
  }

  async function putDirect(bucket: string, key: string, file: Spooled, signal?: AbortSignal): Promise<UploadResult> {
    const put = await store.putObject({
      bucket,
      key,
      body: createReadStream(file.path),
      contentType: "application/octet-stream",
      metadata: directMetadata({ originalName: baseName(key), sha256: file.sha256, size: file.size, now: now() }),
      signal,
    });
    // Overwriting a logical key replaces it cleanly: a stale delta of the same name must not linger.
    await removeQuietly(bucket, `${key}${DELTA_SUFFIX}`, signal);
    return {
      key,
      storedAs: "direct",
      originalBytes: file.size,
      storedBytes: file.size,
      physicalKey: key,
      etag: put.etag,
      sha256: file.sha256,
    };
  }

  /**
   * When reference and upload are both compressed (a .tar.gz DeltaSpace), diffing the decompressed forms is what
   * makes the delta small, as xdelta3 does (§8.5). That needs readers to recompress, which is only byte-exact when
   * the GNU tool reproduces the upload; otherwise the raw upload is encoded and the target letter left empty (§8.9).
   */
  async function compressedTarget(file: Spooled, work: string) {
    const handle = await open(file.path, "r");
    const head = Buffer.alloc(4);
    try {
      await handle.read(head, 0, 4, 0);
    } finally {
      await handle.close();
    }
    const letter = detectMagic(head);
    if (!letter || !canRecompress(letter)) return undefined;
    const decompressed = await decompressIfFaithful(letter, file.path, file.sha256, join(work, "target.raw"));
    return decompressed ? { letter, file: decompressed } : undefined;
  }

  async function encodeAgainst(
    reference: ReferenceHandle,
    file: Spooled,
    work: string,
    appHeader: string,
    signal?: AbortSignal,
  ) {
    const deltaPath = join(work, "delta");
    const result = await pool.encode(
      {
        source: reference.bytes ?? { path: reference.path as string },
        targetPath: file.path,
        deltaPath,
        // The source letter says we addressed the reference's decompressed form, as every reader will (§8.9).
        appHeader,
        expectedSize: file.size,
      },
      signal,
    );
    return { deltaPath, deltaSize: result.deltaSize, proofFailure: result.proofFailure };
  }

  /**
   * The encoder broke an invariant or its delta failed the proof: a bug, never the uploader's fault. The upload is
   * stored whole (DeltaGlider reads direct files too), reported at error level and counted, and never a bad delta.
   */
  async function storeAfterFailedProof(
    bucket: string,
    key: string,
    file: Spooled,
    failure: { reason: string; deltaSize: number; referenceKey: string; referenceSize: number },
    signal?: AbortSignal,
  ): Promise<UploadResult> {
    options.logger?.error(
      {
        bucket,
        key,
        deltaSpace: deltaSpaceOf(key),
        fileSize: file.size,
        referenceSize: failure.referenceSize,
        deltaSize: failure.deltaSize,
        reason: failure.reason,
      },
      "delta encode failed its proof; stored the upload as a direct file",
    );
    options.onEncoderFallback?.();
    return await putDirect(bucket, key, file, signal);
  }

  async function upload(bucket: string, key: string, body: PutBody, signal?: AbortSignal): Promise<UploadResult> {
    assertWritableLogicalKey(key);
    if (!(await store.bucketExists(bucket, signal))) {
      throw new GliderError("bucket_not_found", `bucket "${bucket}" does not exist`, { bucket });
    }
    // One private folder per upload, removed with everything in it when the upload ends.
    const work = await mkdtemp(join(spoolRoot, "glider-upload-"));
    try {
      if (isDeltaCandidate(key)) {
        const overlapped = await uploadOverlapped(bucket, key, body, work, signal);
        if (overlapped) return overlapped;
      }
      const file = await spool(body, work, signal);
      await crashPoint("upload:spooled");
      if (!isDeltaCandidate(key)) return await putDirect(bucket, key, file, signal);

      const name = baseName(key);
      const referenceKey = referenceKeyOf(deltaSpaceOf(key));
      let refSha: string | undefined;
      let storedAs: StoredAs = "delta";
      try {
        refSha = readDgMetadata((await store.headObject(bucket, referenceKey, signal)).metadata).fileSha256;
        if (!refSha) {
          throw new GliderError("integrity_failed", `"${referenceKey}" has no sha256 in its metadata`, {
            bucket,
            reference: referenceKey,
          });
        }
      } catch (error) {
        if (!(error instanceof GliderError && error.code === "key_not_found")) throw error;
        if (await referenceWriter.create(bucket, referenceKey, name, file, signal)) {
          storedAs = "reference";
          refSha = file.sha256;
          await crashPoint("upload:reference-written");
        } else {
          refSha = readDgMetadata((await store.headObject(bucket, referenceKey, signal)).metadata).fileSha256;
        }
      }
      if (!refSha) throw new GliderError("integrity_failed", `"${referenceKey}" has no sha256`, { bucket });

      try {
        const result = await storeDelta(bucket, key, file, work, referenceKey, refSha, storedAs, signal);
        // Until its delta landed, the new reference looked orphaned, and deleting a key of this DeltaSpace removes
        // orphans: put it back if that happened meanwhile (same bytes, same sha256).
        if (storedAs === "reference" && result.storedAs !== "direct") {
          try {
            await store.headObject(bucket, referenceKey, signal);
          } catch (error) {
            if (!(error instanceof GliderError && error.code === "key_not_found")) throw error;
            await referenceWriter.create(bucket, referenceKey, name, file, signal);
          }
        }
        return result;
      } catch (error) {
        // A reference this upload created but could not use would be orphaned (§3.8): take it back.
        if (storedAs === "reference") await store.deleteObject(bucket, referenceKey).catch(() => undefined);
        throw error;
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  async function storeDelta(
    bucket: string,
    key: string,
    file: Spooled,
    work: string,
    referenceKey: string,
    refSha: string,
    storedAs: StoredAs,
    signal?: AbortSignal,
  ): Promise<UploadResult> {
    const name = baseName(key);
    const raw = await references.acquire(bucket, referenceKey, refSha, "raw", signal);
    let reference = raw;
    try {
      if (raw.magic) reference = await references.acquire(bucket, referenceKey, refSha, "decompressed", signal);
      const target = raw.magic ? await compressedTarget(file, work) : undefined;
      const { deltaPath, deltaSize, proofFailure } = await encodeAgainst(
        reference,
        target?.file ?? file,
        work,
        `${name}/${target?.letter ?? ""}/${REFERENCE_NAME}/${raw.magic ?? ""}`,
        signal,
      );
      if (proofFailure !== undefined) {
        // A reference this upload just created would be left without a delta (§3.8): take it back first.
        if (storedAs === "reference") await store.deleteObject(bucket, referenceKey, signal);
        return await storeAfterFailedProof(
          bucket,
          key,
          file,
          { reason: proofFailure, deltaSize, referenceKey, referenceSize: reference.size },
          signal,
        );
      }
      return await storeEncoded(bucket, key, file, deltaPath, deltaSize, referenceKey, refSha, storedAs, signal);
    } finally {
      reference.release();
      if (reference !== raw) raw.release();
    }
  }

  /** Stores an encoded delta (or the direct file when the delta does not pay) under the logical key. */
  async function storeEncoded(
    bucket: string,
    key: string,
    file: Spooled,
    deltaPath: string,
    deltaSize: number,
    referenceKey: string,
    refSha: string,
    storedAs: StoredAs,
    signal?: AbortSignal,
  ): Promise<UploadResult> {
    const name = baseName(key);
    const ratio = file.size === 0 ? Number.POSITIVE_INFINITY : deltaSize / file.size;
    // The documented guard (§3.3): DeltaGlider only warns, we store a direct file when the delta does not pay.
    if (storedAs === "delta" && ratio > maxRatio) return await putDirect(bucket, key, file, signal);
    const deltaKey = `${key}${DELTA_SUFFIX}`;
    const put = await store.putObject({
      bucket,
      key: deltaKey,
      body: createReadStream(deltaPath),
      contentType: "application/octet-stream",
      metadata: deltaMetadata({
        originalName: name,
        sha256: file.sha256,
        size: file.size,
        refKey: referenceKey,
        refSha256: refSha,
        deltaSize,
        zeroDiff: file.sha256 === refSha,
        now: now(),
      }),
      signal,
    });
    await crashPoint("upload:delta-written");
    // A direct object under the exact key would win every read (§4): replacing the logical key removes it.
    await removeQuietly(bucket, key, signal);
    return {
      key,
      storedAs,
      originalBytes: file.size,
      storedBytes: deltaSize,
      physicalKey: deltaKey,
      etag: put.etag,
      sha256: file.sha256,
      ratio,
    };
  }

  /**
   * A new version for an existing, uncompressed reference: encode while the body still arrives (the worker reads the
   * spool file as it grows), so the answer follows the last byte by about one window's encode instead of a whole
   * file's. Undefined, with the body untouched, when the upload needs the sequential path (no reference yet, or a
   * compressed one).
   */
  async function uploadOverlapped(
    bucket: string,
    key: string,
    body: PutBody,
    work: string,
    signal?: AbortSignal,
  ): Promise<UploadResult | undefined> {
    const referenceKey = referenceKeyOf(deltaSpaceOf(key));
    let refSha: string | undefined;
    try {
      refSha = readDgMetadata((await store.headObject(bucket, referenceKey, signal)).metadata).fileSha256;
    } catch (error) {
      if (error instanceof GliderError && error.code === "key_not_found") return undefined;
      throw error;
    }
    if (!refSha) return undefined;
    const reference = await references.acquire(bucket, referenceKey, refSha, "raw", signal);
    try {
      if (reference.magic) return undefined;
      const targetPath = join(work, "upload");
      const deltaPath = join(work, "delta");
      const growing = createGrowingFile();
      // The worker opens the spool file at once: it must exist before the body's first byte.
      await writeFile(targetPath, "");
      const encoding = pool.encode(
        {
          source: reference.bytes ?? { path: reference.path as string },
          targetPath,
          deltaPath,
          appHeader: `${baseName(key)}//${REFERENCE_NAME}/`,
          growing: growing.shared,
        },
        signal,
      );
      let file: Spooled;
      try {
        file = await spool(body, work, signal, growing);
      } catch (error) {
        await encoding.catch(() => undefined);
        throw error;
      }
      const { deltaSize, proofFailure } = await encoding;
      if (proofFailure !== undefined) {
        return await storeAfterFailedProof(
          bucket,
          key,
          file,
          { reason: proofFailure, deltaSize, referenceKey, referenceSize: reference.size },
          signal,
        );
      }
      return await storeEncoded(bucket, key, file, deltaPath, deltaSize, referenceKey, refSha, "delta", signal);
    } finally {
      reference.release();
    }
  }

  return { upload };
}
