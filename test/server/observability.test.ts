import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { testConfig } from "../helpers/app.js";

describe("GraphQL observability", () => {
  it('counts operations by name and type, times them, counts errors by code; logs messages, not {"0":…}', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    const app = await buildApp(testConfig({ LOG_LEVEL: "debug" }), { logger: pino({ level: "debug" }, sink) });
    const post = (query: string) => app.inject({ method: "POST", url: "/graphql", payload: { query } });
    await post("query Health { health { status } }");
    await post("query Health { health { status } }");
    const failed = await post(`mutation Start { computeSavings(input: { bucket: "nope" }) { job { taskId } } }`);
    expect(failed.json().errors[0].extensions.code).toBe("bucket_not_found");
    // A query's expected error too (a transfer's global id around a malformed transfer id; a well-formed unknown one
    // answers null, without an error).
    const badId = Buffer.from("Transfer:not-an-id").toString("base64");
    const missing = await post(`query Missing { transfer(id: "${badId}") { downloads } }`);
    const missingCode = missing.json().errors[0].extensions.code;
    expect(missingCode).toBe("invalid_request");
    const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body;
    await app.close();
    expect(metrics).toContain('glider_graphql_operations_total{operation="Health",type="query"} 2');
    expect(metrics).toContain('glider_graphql_operation_duration_seconds_count{operation="Health",type="query"} 2');
    expect(metrics).toContain(
      'glider_graphql_errors_total{operation="Start",type="mutation",code="bucket_not_found"} 1',
    );
    // Every line has a message; none is an argument array; an expected domain error is never logged as an error.
    for (const line of lines) {
      expect(line).not.toHaveProperty("0");
      expect(typeof line.msg).toBe("string");
    }
    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    // …but logged, at info, with the error's message and code.
    for (const code of ["bucket_not_found", missingCode]) {
      const line = lines.find((l) => l.code === code);
      expect(line, code).toMatchObject({ level: 30, msg: expect.any(String) });
      expect(line?.msg).not.toBe("graphql");
    }
  });
});
