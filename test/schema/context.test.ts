import { describe, expect, it, vi } from "vitest";
import { createContext } from "../../src/resolvers/context.js";
import { GliderError } from "../../src/services/errors.js";
import type { Services } from "../../src/services/index.js";

/** Just enough of the services for a context: the admin check and what the loaders capture. */
function servicesWith(verifyAdminKey: (key: string | undefined) => void): Services {
  return { tokens: { verifyAdminKey } } as unknown as Services;
}

describe("GraphQL context", () => {
  it("runs the admin check only when a field asks for the admin scope, and once", () => {
    const verify = vi.fn(() => {
      throw new GliderError("forbidden", "no admin key is configured");
    });
    const ctx = createContext(servicesWith(verify), new AbortController().signal, "127.0.0.1", {});
    expect(verify).not.toHaveBeenCalled();
    expect(ctx.isAdmin).toBe(false);
    expect(ctx.adminDenial?.code).toBe("forbidden");
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it("grants the scope when the check passes", () => {
    const verify = vi.fn();
    const ctx = createContext(servicesWith(verify), new AbortController().signal, "127.0.0.1", { adminKey: "k" });
    expect(ctx.isAdmin).toBe(true);
    expect(ctx.adminDenial).toBeUndefined();
    expect(verify).toHaveBeenCalledWith("k");
  });
});
