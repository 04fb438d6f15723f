import PQueue from "p-queue";
import { compareKeys } from "./keys.js";
import type { ListObjectsPage, ObjectStore, ObjectSummary } from "./object-store.js";

/**
 * A whole folder listing (ListObjectsV2 with a prefix and delimiter) read by several LIST calls at once, delivered
 * page by page in key order, as the sequential continuation-token walk would deliver it.
 *
 * A walk of a large folder is one LIST after another: each needs the previous one's last key. On a server whose
 * LISTs are slow (100,000 keys are 100 calls of ~50 ms on RGW), the walk is the whole cost of a folder page sorted
 * by anything but name. Large folders are large because their names count something (build numbers, dates,
 * versions, hashes), so the first page shows where the rest of the key space lies:
 *
 * - A range is a span (lo, hi] of keys; a walker reads it with full pages from StartAfter = lo until an entry passes
 *   hi or the folder ends.
 * - After a range's first full page, the numeric (or hex) field its keys end in is split at its next digits: a page
 *   `build-000000` … `build-000999` gives ranges from `build-01`, `build-02`, … `build-09` (10 pages each). The
 *   range keeps the first span, the others go to the walkers, and each splits again the same way when it starts;
 *   the last one, from `build-09`, splits at `build-1` … `build-9` if the keys go on.
 *
 * Nothing depends on the guess for correctness: the spans are contiguous and exact, each boundary is a listed key's
 * prefix plus one ASCII digit (it sorts against other keys in UTF-8 byte order, S3's, exactly as that key does), and
 * a wrong guess costs only an empty range (one call) or less parallelism.
 * A range that reads past its end takes over the next one if that has not started, so a page is not read twice.
 * Probing for real boundaries instead (one-key LISTs) was tried: on RGW a one-key LIST costs as much as a full one.
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
  object?: ObjectSummary;
}

interface Range {
  lo?: string;
  /** Inclusive; undefined for the end of the folder. Narrowed when the range splits. */
  hi?: string;
  pages: ListObjectsPage[];
  done: boolean;
  /** Its first call has been sent: from then on it reads its own span. */
  started: boolean;
  /** Taken over by the range before it before it started. */
  absorbed: boolean;
}

function after(entry: Entry): string {
  return entry.folder ? entry.name + PAST : entry.name;
}

function sharedLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

const DIGITS = "0123456789";
const HEX = "0123456789abcdef";
const HEX_UPPER = "0123456789ABCDEF";

/** The run of hex-digit characters around `position` in `key` (a number or a hash in a name). */
function fieldAt(key: string, position: number): string {
  const isDigit = (i: number) => /[0-9a-fA-F]/.test(key[i] ?? "");
  let start = position;
  let end = position;
  while (start > 0 && isDigit(start - 1)) start--;
  while (isDigit(end)) end++;
  return key.slice(start, end);
}

/** The digits a numeric field's character at `position` runs through, judged from the page's first and last keys. */
function digitsAt(first: string, last: string, position: number): string | undefined {
  const c = last[position];
  if (c === undefined || !/[0-9a-fA-F]/.test(c)) return undefined;
  const field = fieldAt(first, position) + fieldAt(last, position);
  if (/[a-f]/.test(field)) return /[A-F]/.test(field) ? undefined : HEX;
  if (/[A-F]/.test(field)) return HEX_UPPER;
  return DIGITS.includes(c) ? DIGITS : undefined;
}

/**
 * Boundaries in (last, hi) where the numeric field of a page's keys moves on to its next digits, at the deepest
 * level whose spans should hold two pages or more: the page's keys part at `depth` into `spanned` children of a
 * page between them, and each level up multiplies a span by its alphabet. Smaller spans would cost a call each
 * to find their end; a folder with no level that large is read by one walk.
 */
function boundaries(
  first: string,
  last: string,
  entries: number,
  pageSize: number,
  floor: number,
  hi: string | undefined,
): string[] {
  const depth = sharedLength(first, last);
  const inner = digitsAt(first, last, depth);
  const spanned = inner ? inner.indexOf(last[depth]) - inner.indexOf(first[depth]) + 1 : 1;
  let span = entries / Math.max(1, spanned);
  for (let p = depth; p >= floor; p--) {
    const digits = digitsAt(first, last, p);
    if (!digits) break;
    if (p < depth) span *= digits.length;
    const stem = last.slice(0, p);
    const cuts: string[] = [];
    for (const d of digits.slice(digits.indexOf(last[p]) + 1)) {
      const boundary = stem + d;
      if (hi === undefined || compareKeys(boundary, hi) < 0) cuts.push(boundary);
    }
    if (cuts.length > 0 && span >= 2 * pageSize) return cuts;
  }
  return [];
}

/** Whether `name` is past `hi` (undefined means no end). */
function past(name: string, hi: string | undefined): boolean {
  return hi !== undefined && compareKeys(name, hi) > 0;
}

function entriesOf(page: ListObjectsPage): Entry[] {
  const entries: Entry[] = page.objects.map((o) => ({ name: o.key, folder: false, object: o }));
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
  const queue = new PQueue({ concurrency: Math.max(1, options.concurrency) });
  /** Every range, in key order. */
  const ranges: Range[] = [];
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
  // Earlier ranges first: the reader takes pages in key order. A range absorbed before its turn sends nothing.
  const list = (range: Range, startAfter: string | undefined) =>
    queue.add(
      async () => {
        // The queue starts this call as soon as another ends, before that one's walker has looked at its page:
        // one turn of the event loop lets that walker take this range over if it has already read into it.
        await new Promise((resolve) => setImmediate(resolve));
        signal.throwIfAborted();
        if (range.absorbed) return undefined;
        range.started = true;
        return store.listObjects({ bucket, prefix, delimiter, startAfter, maxKeys: pageSize, signal });
      },
      { priority: -ranges.indexOf(range) },
    ) as Promise<ListObjectsPage | undefined>;

  function push(range: Range, entries: readonly Entry[]): void {
    range.pages.push({
      objects: entries.flatMap((e) => (e.object ? [e.object] : [])),
      commonPrefixes: entries.flatMap((e) => (e.folder ? [e.name] : [])),
      isTruncated: false,
    });
    changed();
  }

  /**
   * The range has read past its end (or to the end of the folder): it takes over the next range when that one has
   * not sent its first call, so the entries already here are not read twice. False when there is none to take.
   */
  function absorbNext(range: Range): boolean {
    const index = ranges.indexOf(range);
    const next = ranges[index + 1];
    if (!next || next.started || next.absorbed) return false;
    next.absorbed = true;
    ranges.splice(index + 1, 1);
    range.hi = next.hi;
    return true;
  }

  async function walk(range: Range): Promise<void> {
    let lo = range.lo;
    for (let first = true; ; first = false) {
      const page = await list(range, lo);
      if (!page) return;
      let rest = entriesOf(page);
      const firstName = rest[0]?.name;
      let last: Entry | undefined;
      let count = 0;
      for (;;) {
        let n = 0;
        while (n < rest.length && !past(rest[n].name, range.hi)) n++;
        if (n > 0) {
          push(range, rest.slice(0, n));
          last = rest[n - 1];
          count += n;
          rest = rest.slice(n);
        }
        if (rest.length === 0 && page.isTruncated) break;
        if (!absorbNext(range)) {
          range.done = true;
          changed();
          return;
        }
      }
      if (!last) break;
      if (first && firstName !== undefined) split(range, firstName, last.name, count);
      lo = after(last);
    }
    range.done = true;
    changed();
  }

  function split(range: Range, first: string, last: string, entries: number): void {
    const cuts = boundaries(first, last, entries, pageSize, prefix.length, range.hi);
    if (cuts.length === 0) return;
    const spans: Range[] = cuts.map((lo, i) => ({
      lo,
      hi: i + 1 < cuts.length ? cuts[i + 1] : range.hi,
      pages: [],
      done: false,
      started: false,
      absorbed: false,
    }));
    range.hi = cuts[0];
    ranges.splice(ranges.indexOf(range) + 1, 0, ...spans);
    for (const span of spans) walk(span).catch(fail);
  }

  const root: Range = { pages: [], done: false, started: false, absorbed: false };
  ranges.push(root);
  walk(root).catch(fail);
  const seenFolders = new Set<string>();
  try {
    for (;;) {
      if (failure !== undefined) throw failure;
      const next = ranges[0];
      if (!next) return;
      if (next.pages.length > 0) {
        const page = next.pages.shift() as ListObjectsPage;
        // A folder that straddles a boundary is reported by both sides.
        const commonPrefixes = page.commonPrefixes.filter((p) => !seenFolders.has(p));
        for (const p of commonPrefixes) seenFolders.add(p);
        yield { ...page, commonPrefixes };
        continue;
      }
      if (next.done) {
        ranges.shift();
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
