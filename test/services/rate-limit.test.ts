import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createRateLimiter } from "../../src/services/rate-limit.js";

function throttled(take: () => void): { retryAfterSeconds: number } | undefined {
  try {
    take();
    return undefined;
  } catch (error) {
    expect(error).toMatchObject({ code: "throttled" });
    return (error as { details: { retryAfterSeconds: number } }).details;
  }
}

/** The token bucket on a fake clock: every figure below is exact, whatever the machine's load. */
describe("rate limiter", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("lets a burst of perSecond through, then throttles with the seconds until the next token", () => {
    const limiter = createRateLimiter({ perSecond: 10 });
    for (let i = 0; i < 10; i++) expect(throttled(() => limiter.take("a"))).toBeUndefined();
    expect(throttled(() => limiter.take("a"))).toEqual({ retryAfterSeconds: 1 });
    // Another client has its own bucket.
    expect(throttled(() => limiter.take("b"))).toBeUndefined();
  });

  it("refills at perSecond: one token every 100 ms at 10/s, never above the burst", () => {
    const limiter = createRateLimiter({ perSecond: 10 });
    for (let i = 0; i < 10; i++) limiter.take("a");
    vi.advanceTimersByTime(99);
    expect(throttled(() => limiter.take("a"))).toBeDefined();
    vi.advanceTimersByTime(1);
    expect(throttled(() => limiter.take("a"))).toBeUndefined();
    expect(throttled(() => limiter.take("a"))).toBeDefined();

    vi.advanceTimersByTime(60_000);
    let allowed = 0;
    while (!throttled(() => limiter.take("a"))) allowed++;
    expect(allowed).toBe(10);
  });

  it("reports Retry-After rounded up to whole seconds at low rates", () => {
    const limiter = createRateLimiter({ perSecond: 0.25, burst: 1 });
    limiter.take("a");
    expect(throttled(() => limiter.take("a"))).toEqual({ retryAfterSeconds: 4 });
    vi.advanceTimersByTime(3000);
    expect(throttled(() => limiter.take("a"))).toEqual({ retryAfterSeconds: 1 });
    vi.advanceTimersByTime(1000);
    expect(throttled(() => limiter.take("a"))).toBeUndefined();
  });

  it("is off at 0 per second", () => {
    const limiter = createRateLimiter({ perSecond: 0 });
    for (let i = 0; i < 1000; i++) expect(throttled(() => limiter.take("a"))).toBeUndefined();
  });
});
