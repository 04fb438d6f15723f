import type { FastifyInstance } from "fastify";
import { print } from "graphql";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ComputeSavingsDocument, SavingsProgressDocument } from "../../src/generated/graphql.js";
import { createMemoryStore } from "../../src/services/storage/memory-store.js";
import { startBrowseApp } from "../helpers/browse-app.js";
import { gql } from "../helpers/graphql.js";
import { seedLargeFolder } from "../helpers/large-folder.js";

interface Progress {
  taskId: string;
  state: string;
  scannedObjects: number;
  objectCount: number;
  originalBytes: number;
  storedBytes: number;
  savingsPct: number;
}

function checkStream(events: Progress[]) {
  expect(events.length).toBeGreaterThanOrEqual(1);
  const last = events[events.length - 1];
  expect(last.state).toBe("DONE");
  expect(events.slice(0, -1).every((e) => e.state === "RUNNING")).toBe(true);
  expect(new Set(events.map((e) => e.taskId)).size).toBe(1);
  for (let i = 1; i < events.length; i++) {
    expect(events[i].scannedObjects).toBeGreaterThanOrEqual(events[i - 1].scannedObjects);
  }
  return last;
}

describe("savings progress subscriptions", () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    const store = createMemoryStore();
    await seedLargeFolder(store);
    ({ app, base } = await startBrowseApp(store));
  });
  afterAll(() => app.close());

  it("streams a full scan over graphql-ws, ending in DONE with the bucket's figures", async () => {
    const client = createClient({ url: `${base.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket });
    const events: Progress[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: print(SavingsProgressDocument), variables: { bucket: "fixture" } },
        {
          next: (value) => {
            if (value.errors) reject(new Error(JSON.stringify(value.errors)));
            events.push((value.data as { savingsProgress: Progress }).savingsProgress);
          },
          error: reject,
          complete: resolve,
        },
      );
    });
    await new Promise((r) => setTimeout(r, 100));
    const started = await gql(base, ComputeSavingsDocument, { bucket: "fixture" });
    await done;
    await client.dispose();
    const last = checkStream(events);
    expect(last.taskId).toBe(started.data?.computeSavings.taskId);
    // The generated folder: 1,100 objects plus one in each of three sub-folders.
    expect(last.objectCount).toBe(1103);
  });

  it("streams over SSE (graphql-yoga) the same way", async () => {
    const controller = new AbortController();
    const res = await fetch(`${base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ query: print(SavingsProgressDocument), variables: { bucket: "fixture" } }),
      signal: controller.signal,
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    setTimeout(() => void gql(base, ComputeSavingsDocument, { bucket: "fixture" }), 100);
    const events: Progress[] = [];
    const decoder = new TextDecoder();
    let buffer = "";
    const reader = res.body?.getReader();
    while (reader) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let boundary = buffer.indexOf("\n\n");
      while (boundary >= 0) {
        const message = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const data = message
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trim())
          .join("");
        if (data) {
          const parsed = JSON.parse(data) as { data?: { savingsProgress: Progress } };
          if (parsed.data) events.push(parsed.data.savingsProgress);
        }
        boundary = buffer.indexOf("\n\n");
      }
    }
    checkStream(events);
  });
});
