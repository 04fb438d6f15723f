import DataLoader from "dataloader";
import type { Services } from "../services/index.js";
import type { ObjectDetails, ObjectRow } from "../services/objects/service.js";

export interface ObjectKey {
  bucket: string;
  key: string;
}

/**
 * Per-request loaders: within one operation no storage call repeats, however many fields or aliases ask. S3 has no
 * batch HEAD, so batching here mostly de-duplicates; the services bound concurrency.
 */
export function createLoaders(services: Services, signal: AbortSignal) {
  return {
    /** One logical object's metadata (a HEAD, or two when only `key.delta` exists); null when missing. */
    object: new DataLoader<ObjectKey, ObjectDetails | null, string>(
      (keys) =>
        Promise.all(
          keys.map((k) =>
            services.objects.metadata(k.bucket, k.key, signal).catch((error) => {
              if (error?.code === "key_not_found" || error?.code === "bucket_not_found") return null;
              return error as Error;
            }),
          ),
        ),
      { cacheKeyFn: (k) => `${k.bucket}\0${k.key}` },
    ),
    /** Full metadata of listed rows (sha256): the listing's own HEADs are reused, the rest read once. */
    details: new DataLoader<{ bucket: string; row: ObjectRow }, ObjectDetails, string>(
      (items) => Promise.all(items.map(({ bucket, row }) => services.objects.details(bucket, row, signal))),
      { cacheKeyFn: ({ bucket, row }) => `${bucket}\0${row.physicalKey}\0${row.etag}` },
    ),
    /** Whether a visible bucket exists. */
    bucket: new DataLoader<string, boolean>((names) =>
      Promise.all(
        names.map(async (name) => {
          return services.objects.bucketExists(name, signal);
        }),
      ),
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
