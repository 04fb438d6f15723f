import { afterEach, describe, expect, it, vi } from "vitest";
import { createWindowPool } from "../../../src/services/deltaglider/window-pool.js";
import { settled } from "../../helpers/settle.js";

const UNIT = 1024;

describe("window pool", () => {
  it("reuses a freed buffer for the next window instead of allocating", async () => {
    const pool = createWindowPool(2 * UNIT, UNIT);
    const first = await pool.acquire();
    const a = first.allocate(UNIT);
    a.fill(7);
    first.free();
    first.free();
    expect(pool.spareBuffers).toBe(1);
    const second = await pool.acquire();
    const b = second.allocate(100);
    expect(b.length).toBe(100);
    expect(b.buffer).toBe(a.buffer);
    expect(pool.spareBuffers).toBe(0);
    second.free();
    expect(pool.usedBytes).toBe(0);
  });

  it("makes a further window wait until a slot is freed, and gives larger windows their own buffer", async () => {
    const pool = createWindowPool(2 * UNIT, UNIT);
    const a = await pool.acquire();
    const b = await pool.acquire();
    let third = false;
    const c = pool.acquire().then((slot) => {
      third = true;
      return slot;
    });
    await settled();
    expect(third).toBe(false);
    const big = a.allocate(3 * UNIT);
    expect(big.length).toBe(3 * UNIT);
    a.free();
    expect(pool.spareBuffers).toBe(0);
    const slot = await c;
    expect(third).toBe(true);
    b.free();
    slot.free();
    expect(pool.usedBytes).toBe(0);
  });

  it("frees a lent window only once the producer is done and every chunk is released", async () => {
    const pool = createWindowPool(UNIT, UNIT);
    const slot = await pool.acquire();
    const bytes = slot.allocate(UNIT);
    const lent = slot.lend(60_000);
    const x = lent.chunk(bytes.subarray(0, 512));
    const y = lent.chunk(bytes.subarray(512));
    expect(x.recycled).toBe(true);
    x.release();
    x.release();
    lent.done();
    expect(pool.usedBytes).toBe(UNIT);
    y.release();
    expect(pool.usedBytes).toBe(0);
    expect(pool.spareBuffers).toBe(1);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("takes a stalled window off the pool: its budget comes back, its buffer is never reused", async () => {
    // The stall timer runs on a fake clock: the test moves time past stallMs instead of waiting for it.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const pool = createWindowPool(UNIT, UNIT);
    const slot = await pool.acquire();
    const bytes = slot.allocate(UNIT);
    const lent = slot.lend(20);
    const stuck = lent.chunk(bytes);
    lent.done();
    let granted = false;
    const next = pool.acquire().then((s) => {
      granted = true;
      return s;
    });
    vi.advanceTimersByTime(19);
    await settled();
    expect(granted).toBe(false);
    vi.advanceTimersByTime(1);
    await settled();
    expect(granted).toBe(true);
    expect(pool.abandoned).toBe(1);
    stuck.release();
    expect(pool.spareBuffers).toBe(0);
    const other = await next;
    expect(other.allocate(UNIT).buffer).not.toBe(bytes.buffer);
    other.free();
  });
});
