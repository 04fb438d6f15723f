import { describe, expect, it } from "vitest";
import { createInFlight } from "../../../src/services/send/in-flight.js";

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("createInFlight: Send's one write tracker", () => {
  it("waits for the work of one key only, and for everything in all()", async () => {
    const tracker = createInFlight();
    const a = deferred();
    const b = deferred();
    void tracker.track("a", a.promise);
    void tracker.track("b", b.promise);
    let aSettled = false;
    let allSettled = false;
    const waitA = tracker.settled("a").then(() => {
      aSettled = true;
    });
    const waitAll = tracker.all().then(() => {
      allSettled = true;
    });
    a.resolve();
    await waitA;
    expect(aSettled).toBe(true);
    expect(allSettled).toBe(false);
    b.resolve();
    await waitAll;
    expect(allSettled).toBe(true);
  });

  it("hands back the work's own rejection but never rejects a waiter", async () => {
    const tracker = createInFlight();
    const failing = deferred();
    const tracked = tracker.track("x", failing.promise);
    failing.reject(new Error("write failed"));
    await expect(tracked).rejects.toThrow("write failed");
    await expect(tracker.settled("x")).resolves.toBeUndefined();
    await expect(tracker.all()).resolves.toBeUndefined();
  });
});
