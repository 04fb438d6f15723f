/**
 * bench:cli probe: a process that only sends one LIST through Glider's S3 store (the AWS SDK for JavaScript, as the
 * `glider` command configures it) and checks the answer. Bundled and run with the code cache as bin/glider.js runs
 * the CLI, its time bounds any `glider` verb that must list S3: no client built on `@aws-sdk/client-s3` can be
 * faster than this. Reads PROBE_BUCKET, PROBE_PREFIX, PROBE_KEYS and the AWS_* variables.
 */
import { createS3Store } from "../../src/services/storage/s3-store.js";

const env = process.env;
const store = createS3Store({
  endpoint: env.AWS_ENDPOINT_URL,
  region: env.AWS_REGION ?? "us-east-1",
  forcePathStyle: true,
});
// A CommonJS bundle (as the CLI's) has no top-level await.
store.listObjects({ bucket: env.PROBE_BUCKET ?? "", prefix: env.PROBE_PREFIX, maxKeys: 1000 }).then((page) => {
  if (page.objects.length !== Number(env.PROBE_KEYS)) {
    process.stderr.write(`store-list: ${page.objects.length} keys, expected ${env.PROBE_KEYS}\n`);
    process.exit(1);
  }
});
