// Runs s3rver in its own process (started by test/helpers/s3rver.ts with --openssl-legacy-provider, which its
// DES continuation tokens need on Node >= 17) and reports the bound port on stdout.
const S3rver = require("s3rver");

const directory = process.argv[2];
const server = new S3rver({ address: "127.0.0.1", port: 0, directory, silent: true, allowMismatchedSignatures: false });
server.run().then(
  (address) => process.stdout.write(`${JSON.stringify({ port: address.port })}\n`),
  (error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  },
);
process.on("SIGTERM", () => server.close().finally(() => process.exit(0)));
