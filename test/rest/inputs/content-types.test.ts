import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, bearer, buildSendApp, createTransfer, issueToken } from "../send/helpers.js";

/** Bodies a confused or hostile client might send, each with the content type it claims. */
const WRONG_BODIES: { name: string; contentType?: string; payload: string }[] = [
  { name: "json object", contentType: "application/json", payload: '{"bucket":"demo","key":"x.zip"}' },
  { name: "broken json", contentType: "application/json", payload: "{not json" },
  { name: "text", contentType: "text/plain", payload: "hello" },
  { name: "multipart without boundary", contentType: "multipart/form-data", payload: "--x\r\n" },
  { name: "multipart with a bad body", contentType: "multipart/form-data; boundary=zz", payload: "garbage" },
  { name: "form", contentType: "application/x-www-form-urlencoded", payload: "a=1&b=2" },
  { name: "image", contentType: "image/png", payload: "\x89PNG" },
  { name: "xml", contentType: "application/xml", payload: "<a/>" },
  { name: "octet-stream", contentType: "application/octet-stream", payload: "bytes" },
  { name: "no content type", payload: "bytes" },
];

/** Fills a route pattern's parameters with values that reach the handler. */
function concrete(url: string, transferId: string): string {
  return url
    .replace(":bucket", "demo")
    .replace(":token", "not-a-token")
    .replace(":id", transferId)
    .replace(/:[a-zA-Z]+/g, "x")
    .replace("*", "folder/app-1.0.zip");
}

describe("every body-taking route answers wrong content types with a 4xx", () => {
  let app: FastifyInstance;
  let secret: string;
  let transferId: string;

  beforeAll(async () => {
    ({ app } = await buildSendApp());
    await app.ready();
    await app.services.store.createBucket("demo");
    ({ secret } = await issueToken(app));
    const created = await createTransfer(app, secret, { size: 5 });
    transferId = created.body.transfer.transfer_id;
  });
  afterAll(() => app.close());

  it("walks the route table: no 5xx for any content type, 415s carry the error envelope", async () => {
    const routes = app.routeTable.filter((r) => ["POST", "PUT", "PATCH", "DELETE"].includes(r.method));
    expect(routes.length).toBeGreaterThan(10);
    const failures: string[] = [];
    for (const route of routes) {
      for (const body of WRONG_BODIES) {
        const res = await app.inject({
          method: route.method as "POST",
          url: `${concrete(route.url, transferId)}${route.url === "/api/upload" ? "?bucket=demo&key=f/app.zip" : ""}`,
          headers: {
            ...admin,
            ...bearer(secret),
            ...(body.contentType ? { "content-type": body.contentType } : {}),
          },
          payload: body.payload,
        });
        if (res.statusCode >= 500) failures.push(`${route.method} ${route.url} (${body.name}): ${res.statusCode}`);
        if (res.statusCode === 415 && !res.body.includes('"unsupported_media_type"')) {
          failures.push(`${route.method} ${route.url} (${body.name}): 415 without the unsupported_media_type envelope`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it("POST /api/upload with application/json is 415 (was a 500: body is not async iterable)", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/api/upload?bucket=demo&key=a/app-1.0.zip",
      headers: { "content-type": "application/json" },
      payload: '{"a":1}',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe("unsupported_media_type");
  });

  it("multipart/form-data without a boundary is 400 invalid_request (was a 500: Boundary not found)", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/api/upload",
      headers: { "content-type": "multipart/form-data" },
      payload: "--x\r\n",
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("invalid_request");
  });

  it("Send payload/upload-bytes with application/json is 415 (was a 500: source.once is not a function)", async () => {
    const res = await app.inject({
      method: "POST",
      url: `/api/transfers/id/${transferId}/payload/upload-bytes`,
      headers: { ...bearer(secret), "content-type": "application/json" },
      payload: '{"a":1}',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe("unsupported_media_type");
  });
});
