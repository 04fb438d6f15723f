import type { ObjectStore } from "../../src/services/storage/object-store.js";

type Operation = Exclude<keyof ObjectStore, "kind" | "capabilities">;

/** Wraps a real store and counts calls per operation (and per key for GETs); no behaviour changes. */
export function countingStore(inner: ObjectStore) {
  const calls: Record<string, number> = {};
  const gets: Record<string, number> = {};
  const store = { kind: inner.kind, capabilities: inner.capabilities } as ObjectStore;
  for (const name of Object.keys(inner) as (keyof ObjectStore)[]) {
    const value = inner[name];
    if (typeof value !== "function") continue;
    calls[name] = 0;
    (store as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      calls[name]++;
      if (name === "getObject") {
        const key = (args[0] as { key: string }).key;
        gets[key] = (gets[key] ?? 0) + 1;
      }
      return (value as (...a: unknown[]) => unknown).apply(inner, args);
    };
  }
  return {
    store,
    calls: calls as Record<Operation, number>,
    gets,
    reset() {
      for (const k of Object.keys(calls)) calls[k] = 0;
      for (const k of Object.keys(gets)) delete gets[k];
    },
  };
}
