import { randomBytes } from "node:crypto";
import { mkdir, readdir, rm, rmdir, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";

/**
 * The filesystem store's temp area. Several processes may share one data dir (a server and the CLI, two servers on
 * one volume), so each store instance writes into its own folder `.glider-tmp/p<pid>-<hex>-<host>` and only ever
 * removes folders that provably belong to nobody: those of dead processes on this host, and those untouched for
 * `maxAgeMs` (another host's pids cannot be checked, so age is the only safe sign there). Containers sharing a volume
 * must not share a host name (their pids live in separate namespaces); each container's own name is the default.
 */
export const TMP_DIR = ".glider-tmp";

/** @default one day: a write in flight keeps its file's mtime fresh, so only abandoned folders get this old. */
export const TEMP_MAX_AGE_MS = 24 * 60 * 60 * 1000;

const OWNED = /^p(\d+)-[0-9a-f]{12}-(.+)$/;

/** This host's name as it appears in folder names (no path separators or other awkward characters). */
export function hostLabel(): string {
  return hostname().replace(/[^A-Za-z0-9.-]/g, "_") || "host";
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the pid exists but belongs to another user, which is still a live owner.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Newest mtime of `path` and its direct entries; 0 when it vanished (someone else swept it). */
async function lastActivity(path: string): Promise<number> {
  const times = [0];
  try {
    const info = await stat(path);
    times.push(info.mtimeMs);
    if (info.isDirectory()) {
      for (const name of await readdir(path)) {
        const entry = await stat(join(path, name)).catch(() => undefined);
        times.push(entry?.mtimeMs ?? 0);
      }
    }
  } catch {
    // Vanished between readdir and stat: nothing left to judge.
  }
  return Math.max(...times);
}

/** Removes other owners' temp folders that are safe to remove; never throws (a sweep is housekeeping). */
export async function sweepTempArea(tmpRoot: string, keep: string, maxAgeMs = TEMP_MAX_AGE_MS): Promise<void> {
  const host = hostLabel();
  const names = await readdir(tmpRoot).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((name) => name !== keep)
      .map(async (name) => {
        const path = join(tmpRoot, name);
        const owner = OWNED.exec(name);
        const dead = owner !== null && owner[2] === host && !isAlive(Number(owner[1]));
        if (dead || Date.now() - (await lastActivity(path)) > maxAgeMs) {
          await rm(path, { recursive: true, force: true }).catch(() => undefined);
        }
      }),
  );
}

export interface TempArea {
  /** This instance's own folder; temp files go here and nowhere else. */
  dir: string;
  /** Settles once the folder exists and the sweep is done. */
  ready: Promise<void>;
  /** Removes the folder if it is empty (a write still in flight keeps it; the next start's sweep takes it). */
  release(): Promise<void>;
}

export function openTempArea(root: string, maxAgeMs = TEMP_MAX_AGE_MS): TempArea {
  const tmpRoot = join(root, TMP_DIR);
  const name = `p${process.pid}-${randomBytes(6).toString("hex")}-${hostLabel()}`;
  const dir = join(tmpRoot, name);
  const ready = (async () => {
    await mkdir(dir, { recursive: true });
    await sweepTempArea(tmpRoot, name, maxAgeMs);
  })();
  return {
    dir,
    ready,
    async release() {
      await ready.catch(() => undefined);
      await rmdir(dir).catch(() => undefined);
    },
  };
}
