import { readdirSync, readFileSync, writeFileSync } from "node:fs";

/** Resident set size figures of a process in bytes, from `/proc/<pid>/status` (Linux). */
export interface RssReading {
  /** VmRSS: resident now. */
  rss: number;
  /** VmHWM: peak resident since start or since the last `resetPeak`. */
  hwm: number;
}

function field(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, "m").exec(status);
  if (!match) throw new Error(`no ${name} in /proc status (is this Linux?)`);
  return Number(match[1]) * 1024;
}

export function readRss(pid: number): RssReading {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return { rss: field(status, "VmRSS"), hwm: field(status, "VmHWM") };
}

/** Resets VmHWM to the current RSS (`echo 5 > /proc/<pid>/clear_refs`, Linux ≥ 4.0); false when not allowed. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/**
 * Samples VmRSS every `intervalMs` until `stop()`: the peak of the samples, and VmHWM at the end when the kernel
 * peak was reset at `start` (so the peak between samples is not missed).
 */
export function sampleRss(pid: number, intervalMs = 20) {
  const peakReset = resetPeak(pid);
  const start = readRss(pid).rss;
  let max = start;
  let samples = 1;
  const timer = setInterval(() => {
    try {
      max = Math.max(max, readRss(pid).rss);
      samples++;
    } catch {
      // the process is gone; stop() reports what was seen
    }
  }, intervalMs);
  return {
    start,
    stop(): { start: number; max: number; hwm?: number; samples: number } {
      clearInterval(timer);
      let hwm: number | undefined;
      try {
        const last = readRss(pid);
        max = Math.max(max, last.rss);
        if (peakReset) hwm = last.hwm;
      } catch {
        // gone
      }
      return { start, max: Math.max(max, hwm ?? 0), hwm, samples };
    },
  };
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc/<pid>/stat (Linux). */
export function cpuSeconds(pid: number, thread?: number): number {
  // A thread's own counters: /proc/<pid>/task/<tid>/stat (the main thread's tid is the pid).
  const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (clock ticks, 100 Hz).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Pid of this process's child whose command line contains every one of `parts`. */
export function childPid(...parts: string[]): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== process.pid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (parts.every((p) => cmdline.includes(p))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/**
 * CPU seconds used by each named process between `start()` and `stop()`; `{ pid, thread }` counts one thread of it
 * (a server's main thread, apart from its worker threads).
 */
export function cpuMeter(pids: Record<string, number | { pid: number; thread: number } | undefined>) {
  const read = () =>
    Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => {
        try {
          if (pid === undefined) return [name, Number.NaN];
          return [name, typeof pid === "number" ? cpuSeconds(pid) : cpuSeconds(pid.pid, pid.thread)];
        } catch {
          return [name, Number.NaN];
        }
      }),
    );
  const first = read();
  return {
    stop(): Record<string, number> {
      const last = read();
      return Object.fromEntries(Object.keys(first).map((k) => [k, last[k] - first[k]]));
    },
  };
}

/** "glider 3.2 s, s3rver 1.1 s CPU" */
export function formatCpu(used: Record<string, number>): string {
  return `${Object.entries(used)
    .filter(([, s]) => Number.isFinite(s))
    .map(([name, s]) => `${name} ${s.toFixed(2)} s`)
    .join(", ")} CPU`;
}
