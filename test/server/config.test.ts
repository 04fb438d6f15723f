import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("configuration", () => {
  it("defaults to the embedded filesystem store on 127.0.0.1:4000", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ host: "127.0.0.1", port: 4000, storage: { kind: "fs", dataDir: "./data" } });
    expect(config.graphiql).toBe(true);
  });

  it("reads S3 settings", () => {
    const config = loadConfig({
      STORAGE: "s3",
      S3_ENDPOINT: "http://127.0.0.1:9000",
      S3_REGION: "eu-west-1",
      S3_FORCE_PATH_STYLE: "true",
    });
    expect(config.storage).toEqual({
      kind: "s3",
      endpoint: "http://127.0.0.1:9000",
      region: "eu-west-1",
      forcePathStyle: true,
    });
  });

  it("turns GraphiQL off in production", () => {
    expect(loadConfig({ NODE_ENV: "production" }).graphiql).toBe(false);
  });

  it.each([
    [{ STORAGE: "nope" }, /^invalid configuration: STORAGE: .*"nope"/],
    [{ PORT: "abc" }, /^invalid configuration: PORT: expected an integer from 0 to 65535 \(got "abc"\)$/],
    [{ PORT: "70000" }, /^invalid configuration: PORT: /],
    [{ S3_FORCE_PATH_STYLE: "maybe" }, /^invalid configuration: S3_FORCE_PATH_STYLE: expected true or false/],
    [{ S3_ENDPOINT: "not a url" }, /^invalid configuration: S3_ENDPOINT: expected a URL/],
  ])("rejects %j with a message naming the variable", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
