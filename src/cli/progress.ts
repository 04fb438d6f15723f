/**
 * Progress for long transfers: one status line on stderr, redrawn in place, only when stderr is a terminal and
 * only once the transfer has run for a moment (short commands never flash a line). Anything else written to stderr
 * goes through `printError` so the status line is cleared first.
 */
const START_AFTER_MS = 700;
const REDRAW_EVERY_MS = 150;

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

export interface Progress {
  /** Bytes moved. */
  bytes(n: number): void;
  /** One object finished (recursive transfers). */
  item(): void;
  /** Objects done so far, when the caller counts them itself. */
  setItems(n: number): void;
  /** Stops drawing and removes the line. */
  end(): void;
}

export interface ProgressOptions {
  label: string;
  totalBytes?: number;
  totalItems?: number;
  /** @default process.stderr.isTTY */
  enabled?: boolean;
}

export function createProgress(options: ProgressOptions): Progress {
  const enabled = options.enabled ?? process.stderr.isTTY === true;
  const started = Date.now();
  let bytes = 0;
  let items = 0;
  let drawnAt = 0;
  let ended = false;

  function draw(force = false) {
    if (!enabled || ended) return;
    const now = Date.now();
    if (now - started < START_AFTER_MS || (!force && now - drawnAt < REDRAW_EVERY_MS)) return;
    drawnAt = now;
    const rate = bytes / Math.max(0.001, (now - started) / 1000);
    const parts = [options.label];
    if (options.totalItems !== undefined || items > 0) {
      parts.push(`${items}${options.totalItems !== undefined ? `/${options.totalItems}` : ""} objects`);
    }
    parts.push(
      options.totalBytes
        ? `${formatBytes(bytes)} / ${formatBytes(options.totalBytes)} (${Math.floor((bytes / options.totalBytes) * 100)}%)`
        : formatBytes(bytes),
    );
    parts.push(`${formatBytes(rate)}/s`);
    const columns = process.stderr.columns || 100;
    process.stderr.write(`\r\x1b[K${parts.join("  ").slice(0, columns - 1)}`);
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
    setItems(n) {
      items = n;
      draw();
    },
    end() {
      ended = true;
      clearStatus();
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
