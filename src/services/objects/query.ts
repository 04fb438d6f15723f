import { GliderError } from "../errors.js";

export type SortField = "name" | "size" | "modified" | "savings_pct";
export type SortOrder = "asc" | "desc";

export interface ObjectQuery {
  bucket: string;
  /** Folder to list, `/` delimiter semantics; a leading `/` is ignored. @default "" */
  prefix?: string;
  /** Opaque cursor from the previous page. */
  cursor?: string;
  /** 1..1000. @default 200 */
  limit?: number;
  /** @default "modified" */
  sort?: SortField;
  /** @default "desc" */
  order?: SortOrder;
  /** Only compressed (true) or only uncompressed (false) objects; undefined for both. */
  compressed?: boolean;
  /** Case-insensitive substring of the object's name (last key segment). */
  search?: string;
  /**
   * List the folder again instead of answering from the listing cache (the UI's "refresh"): changes made outside
   * this connection (another S3 client, another session's connection) otherwise show only once the cached listing
   * expires. Ignored with a cursor: later pages read the listing the first page refreshed. @default false
   */
  fresh?: boolean;
}

const SORT_FIELDS: readonly string[] = ["name", "size", "modified", "savings_pct"];
const ALIASES: Record<string, SortField> = { key: "name", original_bytes: "size" };

/**
 * Reads both spellings the UIs send: the RFC's `sort=size_desc` and the Commander's `sort=size&order=desc`
 * (whose `order` defaults to desc, and whose unknown sort means modified).
 */
export function parseSort(sort: string | undefined, order: string | undefined): { sort: SortField; order: SortOrder } {
  if (order !== undefined && order !== "asc" && order !== "desc") {
    throw new GliderError("invalid_request", `order must be asc or desc`, { parameter: "order", value: order });
  }
  if (!sort) return { sort: "modified", order: order ?? "desc" };
  const suffixed = /^(.*)_(asc|desc)$/.exec(sort);
  const field = ALIASES[suffixed ? suffixed[1] : sort] ?? (suffixed ? suffixed[1] : sort);
  if (!SORT_FIELDS.includes(field)) {
    throw new GliderError(
      "invalid_request",
      `sort must be one of name, size, modified, savings_pct, optionally with _asc or _desc`,
      { parameter: "sort", value: sort },
    );
  }
  return { sort: field as SortField, order: (suffixed?.[2] as SortOrder | undefined) ?? order ?? "desc" };
}

/** `any`, `true`/`false` (and 1/0) → filter value; anything else is invalid. */
export function parseCompressed(value: string | undefined): boolean | undefined {
  if (value === undefined || value === "" || value === "any") return undefined;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new GliderError("invalid_request", "compressed must be any, true or false", { parameter: "compressed", value });
}

export function normalisePrefix(prefix: string | undefined): string {
  const p = (prefix ?? "").replace(/^\/+/, "");
  if (p.includes("\0") || Buffer.byteLength(p) > 1024) {
    throw new GliderError("invalid_prefix", "prefix must be at most 1024 bytes without NUL characters", { prefix });
  }
  return p;
}

/** Rows per page: the default and the most a page may ask for (both front doors' schemas state them too). */
export const LIST_LIMIT_DEFAULT = 200;
export const LIST_LIMIT_MAX = 1000;

export function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return LIST_LIMIT_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT_MAX) {
    throw new GliderError("invalid_request", `limit must be an integer from 1 to ${LIST_LIMIT_MAX}`, {
      parameter: "limit",
      value: limit,
    });
  }
  return limit;
}
