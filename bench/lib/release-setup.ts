import { writeReleases } from "./data.js";
import { MB, type Resources, scaled, tempDir } from "./env.js";
import { createBucket, s3Client, startS3 } from "./s3.js";

/**
 * What the release parts (download, upload, memory, responsiveness) share: two 100 MB versions (scaled) in a temp
 * folder, an s3rver with the given buckets, and an SDK client; all released with the part's resources.
 */
export async function setUpReleases(resources: Resources, part: string, buckets: string[]) {
  const size = scaled(100 * MB, 256 * 1024);
  const tmp = resources.add(await tempDir(part), (t) => t.cleanup(), "temp folder");
  const releases = await writeReleases(tmp.path, size);
  const s3 = resources.add(await startS3(), (s) => s.stop(), "s3rver");
  const client = s3Client(s3);
  for (const bucket of buckets) await createBucket(client, bucket);
  return { size, tmp, releases, s3, client };
}
