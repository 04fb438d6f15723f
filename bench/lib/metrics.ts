import type { GliderServer } from "./glider.js";

/** Storage calls by operation from Glider's /metrics: how many, and their summed latency in ms. */
export type StorageCalls = Map<string, { count: number; ms: number }>;

export async function storageCalls(server: GliderServer): Promise<StorageCalls> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const out: StorageCalls = new Map();
  for (const line of text.split("\n")) {
    const match = /^glider_storage_call_duration_seconds_(sum|count)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const operation = /operation="([^"]+)"/.exec(match[2])?.[1] ?? "?";
    const entry = out.get(operation) ?? { count: 0, ms: 0 };
    if (match[1] === "sum") entry.ms += Number(match[3]) * 1000;
    else entry.count += Number(match[3]);
    out.set(operation, entry);
  }
  return out;
}

/** Calls made between two scrapes. */
export function diffCalls(before: StorageCalls, after: StorageCalls): StorageCalls {
  const out: StorageCalls = new Map();
  for (const [op, a] of after) {
    const b = before.get(op) ?? { count: 0, ms: 0 };
    if (a.count - b.count > 0) out.set(op, { count: a.count - b.count, ms: a.ms - b.ms });
  }
  return out;
}

/** "listObjects 21 in 9.1 s, headObject 160 in 0.4 s" (summed latency; concurrent calls overlap). */
export function formatCalls(calls: StorageCalls): string {
  return [...calls.entries()]
    .map(([op, c]) => `${op} ${c.count} in ${c.ms >= 1000 ? `${(c.ms / 1000).toFixed(1)} s` : `${c.ms.toFixed(0)} ms`}`)
    .join(", ");
}

/** Main-thread pauses seen by Glider's own default metrics (prom-client): GC by kind, event-loop delay. */
export interface Pauses {
  gc: Map<string, { count: number; ms: number }>;
  /** Event-loop delay since the previous scrape (prom-client resets its histogram on every scrape). */
  lagMaxMs: number;
  lagP99Ms: number;
}

export async function pauses(server: GliderServer): Promise<Pauses> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const gc: Pauses["gc"] = new Map();
  let lagMaxMs = Number.NaN;
  let lagP99Ms = Number.NaN;
  for (const line of text.split("\n")) {
    const g = /^nodejs_gc_duration_seconds_(sum|count)\{kind="([^"]+)"\} (\S+)$/.exec(line);
    if (g) {
      const entry = gc.get(g[2]) ?? { count: 0, ms: 0 };
      if (g[1] === "sum") entry.ms += Number(g[3]) * 1000;
      else entry.count += Number(g[3]);
      gc.set(g[2], entry);
    }
    const lag = /^nodejs_eventloop_lag_(max|p99)_seconds (\S+)$/.exec(line);
    if (lag?.[1] === "max") lagMaxMs = Number(lag[2]) * 1000;
    if (lag?.[1] === "p99") lagP99Ms = Number(lag[2]) * 1000;
  }
  return { gc, lagMaxMs, lagP99Ms };
}

/** "GC: major 1 (84 ms), minor 12 (30 ms); event-loop delay max 95 ms, p99 60 ms" between two scrapes. */
export function formatPauses(before: Pauses, after: Pauses): string {
  const gc = [...after.gc.entries()]
    .map(([kind, a]) => {
      const b = before.gc.get(kind) ?? { count: 0, ms: 0 };
      return { kind, count: a.count - b.count, ms: a.ms - b.ms };
    })
    .filter((k) => k.count > 0)
    .map((k) => `${k.kind} ${k.count} (${k.ms.toFixed(0)} ms)`)
    .join(", ");
  return `GC: ${gc || "none"}; event-loop delay max ${after.lagMaxMs.toFixed(0)} ms, p99 ${after.lagP99Ms.toFixed(0)} ms`;
}

/** V8 heap figures from Glider's default metrics (bytes): a snapshot at scrape time. */
export async function heap(server: GliderServer): Promise<{ total: number; newSpace: number; external: number }> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? Number.NaN);
  return {
    total: value(/^nodejs_heap_size_total_bytes (\S+)$/m),
    newSpace: value(/^nodejs_heap_space_size_total_bytes\{space="new"\} (\S+)$/m),
    external: value(/^nodejs_external_memory_bytes (\S+)$/m),
  };
}
