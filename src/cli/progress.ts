/**
 * One progress line on stderr, redrawn in place: bytes done of the total, rate and ETA (and objects for recursive
 * transfers). Drawn only when enabled (stderr is a terminal, no -q, no --no-progress) and only once a transfer has
 * run for a moment, so short commands never flash a line. Everything else written to stderr goes through
 * `printError`, which clears the line first.
 */
const START_AFTER_MS = 300;
const REDRAW_EVERY_MS = 100;

let shown = false;

/** Removes the status line, if one is showing, before something else is written to the terminal. */
export function clearStatus(): void {
  if (shown) {
    process.stderr.write("\r\x1b[K");
    shown = false;
  }
}

export function printError(line: string): void {
  clearStatus();
  process.stderr.write(`${line}\n`);
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--:--";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export interface Progress {
  /** Bytes moved. */
  bytes(n: number): void;
  /** One object finished. */
  item(): void;
  /** Adds to the expected totals (known as listings arrive). */
  expect(bytes: number, items?: number): void;
  /** Stops drawing and removes the line. */
  end(): void;
}

export interface ProgressOptions {
  label: string;
  totalBytes?: number;
  totalItems?: number;
  enabled: boolean;
  /** Clock for tests of the drawing. @default Date.now */
  now?: () => number;
  write?: (text: string) => void;
  columns?: () => number;
}

/** The line itself (exported for tests): label, bar, bytes, percent, rate, ETA, objects. */
export function renderProgress(input: {
  label: string;
  bytes: number;
  totalBytes?: number;
  items: number;
  totalItems?: number;
  elapsedMs: number;
  columns: number;
}): string {
  const { bytes, totalBytes, items, totalItems } = input;
  const rate = bytes / Math.max(0.001, input.elapsedMs / 1000);
  const parts = [input.label];
  if (totalBytes && totalBytes > 0) {
    const fraction = Math.min(1, bytes / totalBytes);
    const width = 20;
    const filled = Math.round(fraction * width);
    parts.push(`[${"#".repeat(filled)}${"-".repeat(width - filled)}]`);
    parts.push(`${formatBytes(bytes)} / ${formatBytes(totalBytes)} ${Math.floor(fraction * 100)}%`);
  } else parts.push(formatBytes(bytes));
  parts.push(`${formatBytes(rate)}/s`);
  if (totalBytes && totalBytes > 0)
    parts.push(`ETA ${formatDuration(rate > 0 ? (totalBytes - bytes) / rate : Infinity)}`);
  if (totalItems !== undefined || items > 0)
    parts.push(`${items}${totalItems !== undefined ? `/${totalItems}` : ""} objects`);
  return parts.join("  ").slice(0, Math.max(10, input.columns - 1));
}

export function createProgress(options: ProgressOptions): Progress {
  const now = options.now ?? Date.now;
  const write = options.write ?? ((text: string) => process.stderr.write(text));
  const columns = options.columns ?? (() => process.stderr.columns || 100);
  const started = now();
  let bytes = 0;
  let items = 0;
  let totalBytes = options.totalBytes;
  let totalItems = options.totalItems;
  let drawnAt = 0;
  let ended = false;

  function draw() {
    if (!options.enabled || ended) return;
    const t = now();
    if (t - started < START_AFTER_MS || t - drawnAt < REDRAW_EVERY_MS) return;
    drawnAt = t;
    const line = renderProgress({
      label: options.label,
      bytes,
      totalBytes,
      items,
      totalItems,
      elapsedMs: t - started,
      columns: columns(),
    });
    write(`\r\x1b[K${line}`);
    shown = true;
  }

  return {
    bytes(n) {
      bytes += n;
      draw();
    },
    item() {
      items++;
      draw();
    },
    expect(moreBytes, moreItems = 0) {
      totalBytes = (totalBytes ?? 0) + moreBytes;
      if (moreItems) totalItems = (totalItems ?? 0) + moreItems;
    },
    end() {
      ended = true;
      if (options.enabled) clearStatus();
    },
  };
}

/** Passes chunks through unchanged, telling `progress` how many bytes went by. */
export function counting(progress: Progress) {
  return async function* (source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      progress.bytes(chunk.length);
      yield chunk;
    }
  };
}
