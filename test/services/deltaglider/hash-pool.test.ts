import { createHash, randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createHashPool, type HashPool } from "../../../src/services/deltaglider/hash-pool.js";

/** `bytes` copied into a SharedArrayBuffer, as the window pool hands decoded windows out. */
function shared(bytes: Uint8Array): Uint8Array {
  const view = new Uint8Array(new SharedArrayBuffer(bytes.length));
  view.set(bytes);
  return view;
}

const sha256 = (...parts: Uint8Array[]) => {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("hex");
};

describe("the sha256 thread", () => {
  const pools: HashPool[] = [];
  const pool = (options?: Parameters<typeof createHashPool>[0]) => {
    const p = createHashPool(options);
    pools.push(p);
    return p;
  };
  afterEach(async () => {
    for (const p of pools.splice(0)) await p.close();
  });

  it("hashes interleaved streams of shared and copied bytes as createHash does, in feeding order", async () => {
    const hashes = pool();
    const a = [randomBytes(300_000), randomBytes(1), randomBytes(65_536)];
    // A view inside a larger buffer: only the view's bytes count.
    const b = [randomBytes(10_000).subarray(100, 5_100), randomBytes(200_000)];
    const one = hashes.open();
    const two = hashes.open();
    const reads: string[] = [];
    one.update(shared(a[0]), () => reads.push("a0"));
    two.update(b[0], () => reads.push("b0"));
    one.update(a[1], () => reads.push("a1"));
    two.update(shared(b[1]), () => reads.push("b1"));
    one.update(shared(a[2]), () => reads.push("a2"));
    const [d1, d2] = await Promise.all([one.digest(), two.digest()]);
    expect(d1).toBe(sha256(...a));
    expect(d2).toBe(sha256(...b));
    // Every read ran before its stream's digest; copied bytes at once, shared ones once hashed, each once.
    expect(reads.sort()).toEqual(["a0", "a1", "a2", "b0", "b1"]);
    expect(hashes.openStreams).toBe(0);
    expect(hashes.queuedBytes).toBe(0);
    expect(hashes.threadsStarted).toBe(1);
  });

  it("posts adjacent views of one buffer together, a full 1 MiB run at once, and reads each view once", async () => {
    const hashes = pool();
    const window = shared(randomBytes(3 * 1024 * 1024 + 1000));
    const stream = hashes.open();
    const reads = new Array<number>(13).fill(0);
    let firstFour!: () => void;
    const fourRead = new Promise<void>((resolve) => {
      firstFour = resolve;
    });
    const view = 256 * 1024;
    for (let i = 0; i < 4; i++) {
      stream.update(window.subarray(i * view, (i + 1) * view), () => {
        reads[i]++;
        if (reads.slice(0, 4).every((n) => n === 1)) firstFour();
      });
    }
    // Four views make a full run: hashed without any further update or the digest.
    await fourRead;
    for (let i = 4; i < 12; i++) stream.update(window.subarray(i * view, (i + 1) * view), () => reads[i]++);
    // A view elsewhere in the buffer starts a new run.
    stream.update(window.subarray(12 * view), () => reads[12]++);
    expect(await stream.digest()).toBe(sha256(window));
    expect(reads).toEqual(new Array(13).fill(1));
  });

  it("keeps shared bytes leased until the thread has read them", async () => {
    const hashes = pool();
    const stream = hashes.open();
    let read = false;
    stream.update(shared(randomBytes(1_000_000)), () => {
      read = true;
    });
    // Not before the thread answers: the caller must not reuse the memory yet.
    expect(read).toBe(false);
    await stream.digest();
    expect(read).toBe(true);
  });

  it("asks its feeders to wait while more than maxQueuedBytes are unhashed, and lets them go once hashed", async () => {
    const hashes = pool({ maxQueuedBytes: 64 * 1024 });
    const stream = hashes.open();
    const parts = Array.from({ length: 20 }, () => shared(randomBytes(48 * 1024)));
    let waits = 0;
    let most = 0;
    for (const part of parts) {
      const room = stream.update(part, () => {});
      most = Math.max(most, hashes.queuedBytes);
      if (room) {
        waits++;
        await room;
        expect(hashes.queuedBytes).toBeLessThanOrEqual(64 * 1024);
      }
    }
    expect(waits).toBeGreaterThan(0);
    // The bound plus the two runs of views posted by the update that crossed it (the previous one and its own).
    expect(most).toBeLessThanOrEqual(64 * 1024 + 2 * 48 * 1024);
    expect(await stream.digest()).toBe(sha256(...parts));
  });

  it("forgets a dropped stream once the thread has answered, running the reads of what it was fed", async () => {
    const hashes = pool();
    const stream = hashes.open();
    let reads = 0;
    stream.update(shared(randomBytes(100_000)), () => reads++);
    stream.update(shared(randomBytes(100_000)), () => reads++);
    stream.drop();
    stream.drop();
    await hashes.drained();
    expect(reads).toBe(2);
    expect(hashes.openStreams).toBe(0);
    await expect(stream.digest()).rejects.toThrow();
  });

  it("close ends the thread: streams in flight fail and free their memory, and nothing new opens", async () => {
    const hashes = pool();
    const stream = hashes.open();
    let read = 0;
    stream.update(shared(randomBytes(4_000_000)), () => read++);
    expect(hashes.threadRunning).toBe(true);
    const failed = expect(stream.digest()).rejects.toThrow(/closed/);
    await hashes.close();
    await failed;
    expect(read).toBe(1);
    expect(hashes.threadRunning).toBe(false);
    expect(hashes.openStreams).toBe(0);
    expect(() => hashes.open()).toThrow(/closed/);
    await hashes.close();
  });

  it("starts no thread until a stream opens", () => {
    const hashes = pool();
    expect(hashes.threadRunning).toBe(false);
    expect(hashes.threadsStarted).toBe(0);
  });
});
