import PQueue from "p-queue";
import { compareKeys } from "./keys.js";
import type { ListObjectsPage, ObjectStore } from "./object-store.js";

/**
 * A whole folder listing (ListObjectsV2 with a prefix and delimiter) read by several LIST calls at once, delivered
 * page by page in key order, as the sequential continuation-token walk would deliver it.
 *
 * A walk of a large folder is one LIST after another: each needs the previous one's last key. On a server whose
 * LISTs are slow (100,000 keys are 100 calls), the walk is the whole cost of a folder page sorted by anything but
 * name. This splits the key space into subtrees and walks them side by side:
 *
 * - A range is a span (lo, hi] of keys (lo is the StartAfter of its first call). A range reads full pages; after a
 *   page that stops inside the range, a one-key LIST after its last entry says whether the range goes on.
 * - When such a page lies inside one subtree deeper than the range's own (its first and last entries share a
 *   longer prefix than the range's keys do), that subtree holds about a page: the range keeps it, and the rest of
 *   the range goes to a chain.
 * - A chain discovers the next subtrees one after another with one-key LISTs (the first entry after a subtree is the
 *   start of the next one) and turns each into a range for the walkers, so walkers never guess at empty space.
 *
 * Nothing depends on the shape of the keys for correctness: every range is an exact (lo, hi] span, compared with
 * the store's own order (UTF-8 bytes), and the spans cover the folder without overlap. Shape only decides how much
 * runs in parallel: keys that share long prefixes (numbers, dates, versions, hashes) split well.
 */

/** Sorts after every character a key holds in practice: `s + PAST` is past every key that starts with `s`. */
const PAST = "\u{10FFFF}";

export interface ParallelListingInput {
  bucket: string;
  prefix: string;
  delimiter?: string;
  signal?: AbortSignal;
}

export interface ParallelListingOptions {
  /** LIST calls in flight at once. */
  concurrency: number;
  /** Entries per full page (MaxKeys). @default 1000 */
  pageSize?: number;
}

/** A key or a common prefix, in listing order. */
interface Entry {
  name: string;
  /** A common prefix: the next call starts past everything under it, not right after it. */
  folder: boolean;
}

interface Range {
  kind: "range";
  lo?: string;
  /** Inclusive; undefined for the end of the folder. Narrowed when the range hands its rest to a chain. */
  hi?: string;
  /** Characters of a key that name the range's subtree. */
  depth: number;
  pages: ListObjectsPage[];
  done: boolean;
  /** Entries the range held, once done. */
  entries: number;
  /** Told when the range is done (its chain learns how large its subtrees turn out). */
  onDone?: (entries: number) => void;
}

/** The still undivided span (lo, hi] after a range: becomes ranges as its subtrees are found. */
interface Chain {
  kind: "chain";
  lo: string;
  hi?: string;
  depth: number;
  /** Sizes of the chain's last finished ranges. */
  recent: number[];
}

type Part = Range | Chain;

function after(entry: Entry): string {
  return entry.folder ? entry.name + PAST : entry.name;
}

/** The first `length` characters of `key`, never splitting a surrogate pair. */
function head(key: string, length: number): string {
  if (length >= key.length) return key;
  const code = key.charCodeAt(length - 1);
  return key.slice(0, code >= 0xd800 && code <= 0xdbff ? length + 1 : length);
}

function sharedLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** Whether `name` is past `hi` (undefined means no end). */
function past(name: string, hi: string | undefined): boolean {
  return hi !== undefined && compareKeys(name, hi) > 0;
}

function entriesOf(page: ListObjectsPage): Entry[] {
  const entries: Entry[] = page.objects.map((o) => ({ name: o.key, folder: false }));
  for (const p of page.commonPrefixes) entries.push({ name: p, folder: true });
  return entries.sort((a, b) => compareKeys(a.name, b.name));
}

export async function* listInParallel(
  store: ObjectStore,
  input: ParallelListingInput,
  options: ParallelListingOptions,
): AsyncGenerator<ListObjectsPage> {
  const { bucket, prefix, delimiter } = input;
  const pageSize = options.pageSize ?? 1000;
  const stop = new AbortController();
  const signal = input.signal ? AbortSignal.any([input.signal, stop.signal]) : stop.signal;
  // Probes first: they find the work the walkers do.
  const queue = new PQueue({ concurrency: Math.max(1, options.concurrency) });
  const parts: Part[] = [];
  let failure: unknown;
  let wake: (() => void) | undefined;
  const changed = () => {
    wake?.();
    wake = undefined;
  };
  const fail = (error: unknown) => {
    failure ??= error;
    stop.abort();
    queue.clear();
    changed();
  };

  // Queued calls are dropped with queue.clear() when the listing ends; only calls in flight need the signal.
  const list = (startAfter: string | undefined, maxKeys: number, priority: number) =>
    queue.add(
      () => {
        signal.throwIfAborted();
        return store.listObjects({ bucket, prefix, delimiter, startAfter, maxKeys, signal });
      },
      { priority },
    ) as Promise<ListObjectsPage>;

  /** The first entry after `lo`, if any. */
  const firstAfter = async (lo: string): Promise<Entry | undefined> => entriesOf(await list(lo, 1, 1))[0];

  async function walk(range: Range): Promise<void> {
    let lo = range.lo;
    for (let pages = 1; ; pages++) {
      const page = await list(lo, pageSize, 0);
      const entries = entriesOf(page);
      const inside = entries.filter((e) => !past(e.name, range.hi));
      range.entries += inside.length;
      range.pages.push({
        objects: page.objects.filter((o) => !past(o.key, range.hi)),
        commonPrefixes: page.commonPrefixes.filter((p) => !past(p, range.hi)),
        isTruncated: false,
      });
      changed();
      const last = inside.at(-1);
      if (!page.isTruncated || inside.length < entries.length || !last) break;
      // A range found by a chain is about one subtree: only one that runs to a second full page is worth splitting
      // (splitting on the first would cut ranges of a page or two into ranges of a few keys).
      if (range.lo === undefined || pages >= 2) split(range, entries[0].name, last);
      const next = await firstAfter(after(last));
      if (!next || past(next.name, range.hi)) break;
      lo = after(last);
    }
    range.done = true;
    range.onDone?.(range.entries);
    changed();
  }

  /**
   * When a page lies inside one subtree deeper than the range's own (its first and last entries share more than the
   * range's keys do), that subtree is about a page; the range keeps the rest of it and a new chain takes the rest
   * of the range, one such subtree at a time. A page that spans several of the range's children says nothing of how
   * large the last one is (splitting there would make ranges of a few keys each): the next page decides.
   */
  function split(range: Range, first: string, last: Entry): void {
    const depth = sharedLength(first, last.name);
    if (depth <= range.depth) return;
    const boundary = head(last.name, depth) + PAST;
    // Keys that hold PAST themselves: no subtree boundary above `last` here.
    if (compareKeys(boundary, after(last)) <= 0) return;
    if (range.hi !== undefined && compareKeys(boundary, range.hi) >= 0) return;
    const chain: Chain = { kind: "chain", lo: boundary, hi: range.hi, depth, recent: [] };
    range.hi = boundary;
    parts.splice(parts.indexOf(range) + 1, 0, chain);
    discover(chain).catch(fail);
  }

  /**
   * Finds the chain's subtrees in order, each one a range for the walkers, until the chain's span is used up. It
   * stays only a little ahead of the walkers, so that what they find can steer it: keys change shape along a folder
   * (`day/part-1` then `day-00001.log`), and where subtrees of the chain's depth turn out to hold a few keys each,
   * every range would cost a whole LIST for them, so the chain climbs a level.
   */
  async function discover(chain: Chain): Promise<void> {
    const floor = prefix.length + 1;
    for (;;) {
      await queue.onSizeLessThan(queue.concurrency);
      signal.throwIfAborted();
      if (chain.recent.length >= 3 && chain.recent.every((n) => n < pageSize / 4) && chain.depth > floor) {
        chain.depth--;
        chain.recent = [];
      }
      const first = await firstAfter(chain.lo);
      const index = parts.indexOf(chain);
      if (!first || past(first.name, chain.hi)) {
        parts.splice(index, 1);
        changed();
        return;
      }
      let end = head(first.name, chain.depth) + PAST;
      // A name holding PAST itself: its subtree cannot be bounded, so the range is that one entry.
      if (compareKeys(end, after(first)) < 0) end = after(first);
      const whole = chain.hi !== undefined && compareKeys(end, chain.hi) >= 0;
      const range: Range = {
        kind: "range",
        lo: chain.lo,
        hi: whole ? chain.hi : end,
        depth: chain.depth,
        pages: [],
        done: false,
        entries: 0,
        onDone: (entries) => {
          chain.recent.push(entries);
          if (chain.recent.length > 3) chain.recent.shift();
        },
      };
      if (whole) parts.splice(index, 1, range);
      else {
        parts.splice(index, 0, range);
        chain.lo = end;
      }
      walk(range).catch(fail);
      changed();
      if (whole) return;
    }
  }

  const root: Range = { kind: "range", depth: prefix.length, pages: [], done: false, entries: 0 };
  parts.push(root);
  walk(root).catch(fail);
  const seenFolders = new Set<string>();
  try {
    for (;;) {
      if (failure !== undefined) throw failure;
      const next = parts[0];
      if (!next) return;
      if (next.kind === "range" && next.pages.length > 0) {
        const page = next.pages.shift() as ListObjectsPage;
        // A folder that straddles a boundary would be reported by both sides.
        const commonPrefixes = page.commonPrefixes.filter((p) => !seenFolders.has(p));
        for (const p of commonPrefixes) seenFolders.add(p);
        yield { ...page, commonPrefixes };
        continue;
      }
      if (next.kind === "range" && next.done) {
        parts.shift();
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stop.abort();
    queue.clear();
  }
}
