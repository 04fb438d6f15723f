import { type IncomingMessage, request } from "node:http";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { sendLeased } from "../../src/http/send-leased.js";
import type { LeasedChunk } from "../../src/services/leased-chunks.js";
import { settled } from "../helpers/settle.js";

const CHUNK = 256 * 1024;

/**
 * A producer with a single buffer, as the window pool would behave under pressure: each chunk is written into the
 * same memory as soon as the previous one is released. Any release before the socket is done with the bytes shows
 * up as corrupted data at the client.
 */
function recyclingProducer(count: number, failAt?: number, chunkSize = CHUNK) {
  const buffer = Buffer.allocUnsafeSlow(chunkSize);
  const stats = { produced: 0, released: 0, returned: false };
  let free: Promise<void> = Promise.resolve();
  let onIdle: (() => void) | undefined;
  const idle = new Promise<void>((resolve) => {
    onIdle = resolve;
  });
  const checkIdle = () => {
    if (stats.returned && stats.released === stats.produced) onIdle?.();
  };
  async function* chunks(): AsyncGenerator<LeasedChunk> {
    try {
      for (let i = 0; i < count; i++) {
        await free;
        if (i === failAt) throw new Error("integrity check failed");
        buffer.fill(i & 0xff);
        let release!: () => void;
        free = new Promise((resolve) => {
          release = resolve;
        });
        stats.produced++;
        let done = false;
        yield {
          bytes: buffer,
          recycled: true,
          release() {
            if (done) return;
            done = true;
            stats.released++;
            release();
            checkIdle();
          },
        };
      }
    } finally {
      stats.returned = true;
      checkIdle();
    }
  }
  /** Settles once the generator has returned and every chunk it produced was released. */
  return { chunks, stats, idle: () => idle };
}

function readableOrEnd(res: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("readable", done);
      res.off("end", done);
      resolve();
    };
    res.on("readable", done);
    res.on("end", done);
  });
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function serve(chunks: () => AsyncIterable<LeasedChunk>, size: number) {
  const responses: number[] = [];
  app = Fastify();
  app.addHook("onResponse", async (_request, reply) => {
    responses.push(reply.statusCode);
  });
  app.get("/", async (_request, reply) => {
    reply.header("content-length", String(size));
    reply.header("x-test", "kept");
    await sendLeased(reply, chunks());
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  if (!address || typeof address === "string") throw new Error("no address");
  return { port: address.port, responses };
}

describe("sendLeased", () => {
  // Chunks below the socket's high-water mark: write() returns true while they still wait in the socket's queue.
  it("never releases a chunk before the socket is done with it, even for a slow reader", async () => {
    const size = 4096;
    const count = 4096;
    const producer = recyclingProducer(count, undefined, size);
    const { port, responses } = await serve(producer.chunks, count * size);
    const result = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/" }, (res) => {
        const parts: Buffer[] = [];
        res.pause();
        // Read in small sips, one per event-loop turn, so the server's socket stays backed up; with nothing to
        // read, wait for the stream to say there is more (or that it ended).
        const sip = async () => {
          for (;;) {
            const part = res.read(16 * 1024) as Buffer | null;
            if (part) {
              parts.push(part);
              await settled();
            } else if (res.readableEnded) break;
            else await readableOrEnd(res);
          }
        };
        res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(parts) }));
        res.on("error", reject);
        void sip();
        res.on("readable", () => {});
      });
      req.on("error", reject);
      req.end();
    });
    expect(result.headers["x-test"]).toBe("kept");
    expect(result.body.length).toBe(count * size);
    for (let i = 0; i < count; i++) {
      const part = result.body.subarray(i * size, (i + 1) * size);
      expect(
        part.every((b) => b === (i & 0xff)),
        `chunk ${i}`,
      ).toBe(true);
    }
    expect(producer.stats.released).toBe(count);
    expect(responses).toEqual([200]);
  });

  it("releases every chunk and stops the producer when the client goes away", async () => {
    const producer = recyclingProducer(10_000);
    const { port } = await serve(producer.chunks, 10_000 * CHUNK);
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/" }, (res) => {
        let seen = 0;
        res.on("data", (part: Buffer) => {
          seen += part.length;
          if (seen > 4 * CHUNK) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on("error", reject);
      req.on("close", resolve);
      req.end();
    });
    await producer.idle();
    expect(producer.stats.returned).toBe(true);
    expect(producer.stats.produced).toBeLessThan(10_000);
    expect(producer.stats.released).toBe(producer.stats.produced);
  });

  it("destroys the connection when the producer fails after the headers, never ending cleanly", async () => {
    const producer = recyclingProducer(8, 3);
    const { port } = await serve(producer.chunks, 8 * CHUNK);
    const outcome = await new Promise<{ bytes: number; complete: boolean; error: boolean }>((resolve) => {
      const req = request({ host: "127.0.0.1", port, path: "/" }, (res) => {
        let bytes = 0;
        res.on("data", (part: Buffer) => {
          bytes += part.length;
        });
        res.on("error", () => resolve({ bytes, complete: res.complete, error: true }));
        res.on("close", () => resolve({ bytes, complete: res.complete, error: false }));
      });
      req.on("error", () => resolve({ bytes: -1, complete: false, error: true }));
      req.end();
    });
    expect(outcome.complete).toBe(false);
    expect(outcome.bytes).toBeLessThanOrEqual(3 * CHUNK);
    await producer.idle();
    expect(producer.stats.released).toBe(producer.stats.produced);
  });
});
