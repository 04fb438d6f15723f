// Runs s3rver in its own process (started by test/helpers/s3rver.ts with --openssl-legacy-provider, which its
// DES continuation tokens need on Node >= 17) and reports the bound port on stdout.
const S3rver = require("s3rver");

const directory = process.argv[2];
// Optional own key pair (S3RVER_ACCESS_KEY_ID / S3RVER_SECRET_ACCESS_KEY): it replaces the built-in S3RVER/S3RVER, so
// two servers with two key pairs refuse each other's keys.
if (process.env.S3RVER_ACCESS_KEY_ID && process.env.S3RVER_SECRET_ACCESS_KEY) {
  const { DUMMY_ACCOUNT } = require("s3rver/lib/models/account");
  DUMMY_ACCOUNT.revokeAccessKey("S3RVER");
  DUMMY_ACCOUNT.createKeyPair(process.env.S3RVER_ACCESS_KEY_ID, process.env.S3RVER_SECRET_ACCESS_KEY);
}
const server = new S3rver({ address: "127.0.0.1", port: 0, directory, silent: true, allowMismatchedSignatures: false });
server.run().then(
  (address) => process.stdout.write(`${JSON.stringify({ port: address.port })}\n`),
  (error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  },
);
process.on("SIGTERM", () => server.close().finally(() => process.exit(0)));
