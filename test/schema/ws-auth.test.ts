import type { FastifyInstance } from "fastify";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { listen } from "../helpers/app.js";
import { ADMIN_KEY, admin, buildSendApp, issueToken } from "../rest/send/helpers.js";

interface Answer {
  data?: Record<string, unknown> | null;
  errors?: { extensions?: { code?: string } }[];
}

/** One operation over graphql-ws with the given `connectionParams` and upgrade headers. */
async function overWebSocket(
  base: string,
  query: string,
  connectionParams?: Record<string, unknown>,
  headers?: Record<string, string>,
): Promise<Answer> {
  const client = createClient({
    url: `${base.replace(/^http/, "ws")}/graphql`,
    connectionParams,
    webSocketImpl: class extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { headers });
      }
    },
    retryAttempts: 0,
    lazy: true,
  });
  try {
    return await new Promise<Answer>((resolve, reject) => {
      let value: Answer = {};
      client.subscribe(
        { query },
        { next: (v) => (value = v as Answer), error: reject, complete: () => resolve(value) },
      );
    });
  } finally {
    await client.dispose();
  }
}

/** A GraphQL error's code, or a typed `Error` result's (createTransfer answers DomainError data). */
const code = (answer: Answer) =>
  answer.errors?.[0]?.extensions?.code ??
  (Object.values(answer.data ?? {})[0] as { code?: string } | null | undefined)?.code;

describe("WebSocket credentials: graphql-ws connectionParams, else the upgrade request's headers", () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    ({ app } = await buildSendApp());
    base = await listen(app);
  });
  afterAll(async () => {
    await app.close();
  });

  it("takes the admin key from connectionParams (browsers cannot set upgrade headers)", async () => {
    const stats = "{ stats { transfers } }";
    expect(await overWebSocket(base, stats, { adminKey: ADMIN_KEY })).toEqual({ data: { stats: { transfers: 0 } } });
    expect(code(await overWebSocket(base, stats))).toBe("unauthorized");
    expect(code(await overWebSocket(base, stats, { adminKey: "wrong-key-0123456789abcdef" }))).toBe("unauthorized");
    // The upgrade headers still work for clients that can set them…
    expect((await overWebSocket(base, stats, undefined, admin)).data).toEqual({ stats: { transfers: 0 } });
    // …and connectionParams win over them.
    expect(code(await overWebSocket(base, stats, { adminKey: "wrong-key-0123456789abcdef" }, admin))).toBe(
      "unauthorized",
    );
    // A malformed value presents nothing, as a malformed header does.
    expect(code(await overWebSocket(base, stats, { adminKey: 42 }))).toBe("unauthorized");
  });

  it("takes a sender's bearer token from connectionParams.authorization", async () => {
    const { secret } = await issueToken(app);
    const create =
      "mutation { createTransfer(input: { size: 4 }) { ... on CreateTransferPayload { transfer { status } } ... on Error { code } } }";
    expect(await overWebSocket(base, create, { authorization: `Bearer ${secret}` })).toEqual({
      data: { createTransfer: { transfer: { status: "PENDING" } } },
    });
    expect(code(await overWebSocket(base, create))).toBe("unauthorized");
  });
});
