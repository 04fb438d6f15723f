/**
 * What `sync` does, decided from two listings the way `aws s3 sync` decides it: a file is transferred when the
 * destination lacks it, when the sizes differ, or (unless size-only) when the source is newer than the destination
 * by whole seconds (S3 keeps seconds). With `delete`, destination files the source lacks are removed. Both sides
 * are keyed by the path relative to the synced folder (original sizes for DeltaGlider objects).
 */
export interface SyncEntry {
  path: string;
  size: number;
  mtimeMs: number;
}

export type SyncReason = "missing" | "size" | "newer";

export interface SyncPlan<S extends SyncEntry, D extends SyncEntry> {
  transfer: { source: S; dest?: D; reason: SyncReason }[];
  remove: D[];
  unchanged: number;
}

export function planSync<S extends SyncEntry, D extends SyncEntry>(
  source: Iterable<S>,
  dest: Iterable<D>,
  options: { sizeOnly: boolean; delete: boolean },
): SyncPlan<S, D> {
  const destByPath = new Map<string, D>();
  for (const d of dest) destByPath.set(d.path, d);
  const seen = new Set<string>();
  const plan: SyncPlan<S, D> = { transfer: [], remove: [], unchanged: 0 };
  for (const s of source) {
    seen.add(s.path);
    const d = destByPath.get(s.path);
    if (!d) plan.transfer.push({ source: s, reason: "missing" });
    else if (d.size !== s.size) plan.transfer.push({ source: s, dest: d, reason: "size" });
    else if (!options.sizeOnly && Math.floor(s.mtimeMs / 1000) > Math.floor(d.mtimeMs / 1000)) {
      plan.transfer.push({ source: s, dest: d, reason: "newer" });
    } else plan.unchanged++;
  }
  if (options.delete) for (const [path, d] of destByPath) if (!seen.has(path)) plan.remove.push(d);
  return plan;
}
