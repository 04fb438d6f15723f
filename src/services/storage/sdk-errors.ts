/**
 * What an AWS SDK failure says about itself, read without casts: thrown values are `unknown`, and a network error,
 * an abort or a GliderError carries no `$metadata`, so every field is optional.
 */

/** The error's `name` (`NoSuchKey`, `NotFound`, `BucketNotEmpty`, …), or "" when it has none. */
export function errorName(error: unknown): string {
  if (typeof error !== "object" || error === null || !("name" in error)) return "";
  return typeof error.name === "string" ? error.name : "";
}

/** The HTTP status the SDK saw, when the failure came from an answer (HEAD's bare 404 has nothing else). */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("$metadata" in error)) return undefined;
  const metadata = error.$metadata;
  if (typeof metadata !== "object" || metadata === null || !("httpStatusCode" in metadata)) return undefined;
  return typeof metadata.httpStatusCode === "number" ? metadata.httpStatusCode : undefined;
}
