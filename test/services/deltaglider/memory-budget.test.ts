import { describe, expect, it } from "vitest";
import { createMemoryBudget } from "../../../src/services/deltaglider/memory-budget.js";
import { settled } from "../../helpers/settle.js";

describe("memory budget for decoded windows", () => {
  it("grants in order up to the capacity and resumes waiters as bytes come back", async () => {
    const budget = createMemoryBudget(16);
    const order: string[] = [];
    const a = await budget.acquire(8);
    const b = await budget.acquire(8);
    const c = budget.acquire(8).then((release) => {
      order.push("c");
      return release;
    });
    const d = budget.acquire(4).then((release) => {
      order.push("d");
      return release;
    });
    await settled();
    expect(order).toEqual([]);
    expect(budget.used).toBe(16);
    a();
    a();
    const releaseC = await c;
    expect(order).toEqual(["c"]);
    b();
    (await d)();
    releaseC();
    expect(order).toEqual(["c", "d"]);
    expect(budget.used).toBe(0);
  });

  it("lets a request larger than the whole budget run alone instead of deadlocking", async () => {
    const budget = createMemoryBudget(8);
    const big = await budget.acquire(32);
    const small = budget.acquire(1);
    let granted = false;
    void small.then(() => {
      granted = true;
    });
    await settled();
    expect(granted).toBe(false);
    big();
    (await small)();
    expect(budget.used).toBe(0);
  });

  it("drops a waiter whose client went away", async () => {
    const budget = createMemoryBudget(8);
    const held = await budget.acquire(8);
    const controller = new AbortController();
    const waiting = budget.acquire(8, controller.signal);
    controller.abort(new Error("client gone"));
    await expect(waiting).rejects.toThrow("client gone");
    held();
    expect(budget.used).toBe(0);
    (await budget.acquire(8))();
  });
});
