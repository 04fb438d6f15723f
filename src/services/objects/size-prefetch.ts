import type { ListedPage, LogicalEntry } from "../deltaglider/catalogue.js";
import { compareKeys } from "../storage/keys.js";

export interface SizePrefetchOptions {
  /** Whether an entry passes the query's filters (compressed, search). */
  matches(entry: LogicalEntry): boolean;
  /**
   * `first`: the query shows the first `limit` entries by ascending name: only those can be needed.
   * `all`: every matching delta's size is needed (size and savings sorts).
   */
  want: { first: number } | "all";
  /** Reads the sizes of deltas (index, else HEAD) into the metadata cache; failures are left to the page. */
  fetch(deltas: LogicalEntry[]): Promise<unknown>;
}

/**
 * A listing's page hook that starts reading deltas' original sizes while the walk goes on, instead of after it: the
 * page's own read then finds them done (or joins them in flight). For `first`, it reads the deltas among the first
 * `limit` matching names found so far. S3 lists in key order, so later LIST pages rarely add a name before them; when
 * one does (`x.delta` lists as `x`, which can sort before the last key returned: `a.delta` follows `a-1.zip`), a delta
 * pushed off the page was read for nothing. An exact bound is no use here: `-` sorts before `.`, so any key with a
 * hyphen would make it nearly the folder's start. Reads run one batch at a time, adding at most one batch's
 * concurrency to the store's load. The page answer does not depend on it: it only warms caches.
 */
export function createSizePrefetch(options: SizePrefetchOptions): (page: ListedPage) => void {
  const { matches, want, fetch } = options;
  /** For `first`: the smallest matching entries so far, in name order, at most `limit`. */
  let leading: LogicalEntry[] = [];
  const started = new Set<string>();
  let chain: Promise<unknown> = Promise.resolve();

  return (page) => {
    const found = page.entries.filter(matches);
    let ready: LogicalEntry[];
    if (want === "all") {
      ready = found.filter((e) => e.compressed);
    } else {
      leading = [...leading, ...found].sort((a, b) => compareKeys(a.key, b.key)).slice(0, want.first);
      ready = leading.filter((e) => e.compressed && !started.has(e.physicalKey));
    }
    if (ready.length === 0) return;
    for (const e of ready) started.add(e.physicalKey);
    chain = chain.then(() => fetch(ready)).catch(() => undefined);
  };
}
