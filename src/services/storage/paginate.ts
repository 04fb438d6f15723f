import { GliderError } from "../errors.js";
import { clampMaxKeys, compareKeys } from "./keys.js";
import type { ListObjectsInput, ListObjectsPage, ObjectSummary } from "./object-store.js";

/** Where the previous page stopped: after `key`, or after every key under the common prefix `key`. */
interface Marker {
  key: string;
  prefix: boolean;
}

export function encodeContinuationToken(marker: Marker): string {
  return Buffer.from(JSON.stringify([marker.key, marker.prefix ? 1 : 0]), "utf8").toString("base64url");
}

export function decodeContinuationToken(token: string): Marker {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (Array.isArray(parsed) && typeof parsed[0] === "string" && (parsed[1] === 0 || parsed[1] === 1)) {
      return { key: parsed[0], prefix: parsed[1] === 1 };
    }
  } catch {
    // fall through to the typed error
  }
  throw new GliderError("invalid_request", "invalid continuation token", { continuationToken: token });
}

/**
 * ListObjectsV2 over keys already sorted by `compareKeys`: prefix filter, delimiter roll-up into common prefixes,
 * MaxKeys counting objects and prefixes together, continuation after the last entry returned.
 */
export function paginate(sorted: Iterable<ObjectSummary>, input: ListObjectsInput): ListObjectsPage {
  const prefix = input.prefix ?? "";
  const delimiter = input.delimiter || undefined;
  const maxKeys = clampMaxKeys(input.maxKeys);
  const marker: Marker | undefined = input.continuationToken
    ? decodeContinuationToken(input.continuationToken)
    : input.startAfter
      ? { key: input.startAfter, prefix: false }
      : undefined;

  const objects: ObjectSummary[] = [];
  const commonPrefixes: string[] = [];
  let count = 0;
  let last: Marker | undefined;
  let lastPrefix: string | undefined;

  for (const entry of sorted) {
    const { key } = entry;
    if (!key.startsWith(prefix)) {
      if (compareKeys(key, prefix) > 0) break;
      continue;
    }
    if (marker) {
      if (
        marker.prefix
          ? key.startsWith(marker.key) || compareKeys(key, marker.key) <= 0
          : compareKeys(key, marker.key) <= 0
      )
        continue;
    }
    let rolledUp: string | undefined;
    if (delimiter) {
      const at = key.indexOf(delimiter, prefix.length);
      if (at >= 0) rolledUp = key.slice(0, at + delimiter.length);
    }
    if (rolledUp !== undefined && rolledUp === lastPrefix) continue;
    if (count === maxKeys) {
      return {
        objects,
        commonPrefixes,
        isTruncated: true,
        nextContinuationToken: last && encodeContinuationToken(last),
      };
    }
    if (rolledUp !== undefined) {
      commonPrefixes.push(rolledUp);
      lastPrefix = rolledUp;
      last = { key: rolledUp, prefix: true };
    } else {
      objects.push(entry);
      last = { key, prefix: false };
    }
    count++;
  }
  return { objects, commonPrefixes, isTruncated: false };
}
