import { GliderError } from "../errors.js";

/** Physical ↔ logical key rules of DeltaGlider (format doc §1). */
export const REFERENCE_NAME = "reference.bin";
export const DELTA_SUFFIX = ".delta";
export const HOUSEKEEPING_PREFIX = ".deltaglider/";

/** Delta candidates by file name (§3.1): a plain suffix match on the lower-cased last segment. */
const CANDIDATE_SUFFIXES = [
  ".tar.gz",
  ".tar.bz2",
  ".tar.xz",
  ".zip",
  ".tar",
  ".gz",
  ".tgz",
  ".bz2",
  ".xz",
  ".7z",
  ".rar",
  ".dmg",
  ".iso",
  ".pkg",
  ".deb",
  ".rpm",
  ".apk",
  ".jar",
  ".war",
  ".ear",
];

export function baseName(key: string): string {
  return key.slice(key.lastIndexOf("/") + 1);
}

/** The DeltaSpace of a key: everything before the last `/` (with the slash), or "" at the bucket root. */
export function deltaSpaceOf(key: string): string {
  return key.slice(0, key.lastIndexOf("/") + 1);
}

export function referenceKeyOf(deltaSpace: string): string {
  return `${deltaSpace}${REFERENCE_NAME}`;
}

export function isDeltaCandidate(key: string): boolean {
  const name = baseName(key).toLowerCase();
  return CANDIDATE_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

export function isReferenceKey(physicalKey: string): boolean {
  return physicalKey === REFERENCE_NAME || physicalKey.endsWith(`/${REFERENCE_NAME}`);
}

export function isHousekeepingKey(physicalKey: string): boolean {
  return physicalKey.startsWith(HOUSEKEEPING_PREFIX);
}

/** Maps a physical key to what users see, or undefined for keys that are never listed. */
export function toLogical(physicalKey: string): { key: string; compressed: boolean } | undefined {
  if (isReferenceKey(physicalKey) || isHousekeepingKey(physicalKey)) return undefined;
  if (physicalKey.endsWith(DELTA_SUFFIX)) return { key: physicalKey.slice(0, -DELTA_SUFFIX.length), compressed: true };
  return { key: physicalKey, compressed: false };
}

/**
 * Keys Glider refuses to write because they would collide with the storage scheme (format doc §1.3):
 * a last segment named `reference.bin` or ending in `.delta`, anything under `.deltaglider/`, empty names.
 */
export function assertWritableLogicalKey(key: string): void {
  const name = baseName(key);
  const reason =
    key.length === 0
      ? "key must not be empty"
      : name.length === 0
        ? "key must name a file, not a folder"
        : name === REFERENCE_NAME
          ? `"${REFERENCE_NAME}" is DeltaGlider's reference name`
          : name.endsWith(DELTA_SUFFIX)
            ? `names ending in "${DELTA_SUFFIX}" are DeltaGlider's delta names`
            : isHousekeepingKey(key)
              ? `"${HOUSEKEEPING_PREFIX}" is DeltaGlider's housekeeping prefix`
              : key
                    .split("/")
                    .slice(0, -1)
                    .some((s) => s === "")
                ? "key must not contain empty path segments"
                : undefined;
  if (reason) throw new GliderError("invalid_key", `cannot store "${key}": ${reason}`, { key });
}
