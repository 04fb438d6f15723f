/**
 * `--include` / `--exclude` as the DeltaGlider CLI applies them: Python `fnmatch` patterns matched against the path
 * relative to the copied folder, where `*` also crosses `/`. A path is skipped when any exclude matches, and, when
 * includes are given, unless one of them matches.
 *
 * Hand-written (a dozen lines) because glob libraries give `*` and `/` the shell meaning, which differs from fnmatch.
 */
export interface PathFilter {
  include: readonly string[];
  exclude: readonly string[];
}

const cache = new Map<string, RegExp>();

/** Python's fnmatch.translate: `*`, `?`, `[seq]`, `[!seq]`; everything else literal. Case-sensitive (POSIX). */
export function fnmatchRegExp(pattern: string): RegExp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") out += "[\\s\\S]*";
    else if (c === "?") out += "[\\s\\S]";
    else if (c === "[") {
      let j = i + 1;
      if (pattern[j] === "!") j++;
      if (pattern[j] === "]") j++;
      while (j < pattern.length && pattern[j] !== "]") j++;
      if (j >= pattern.length) out += "\\[";
      else {
        let body = pattern.slice(i + 1, j).replace(/\\/g, "\\\\");
        if (body.startsWith("!")) body = `^${body.slice(1)}`;
        else if (body.startsWith("^")) body = `\\${body}`;
        out += `[${body}]`;
        i = j;
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  const re = new RegExp(`^${out}$`, "u");
  cache.set(pattern, re);
  return re;
}

export function fnmatch(path: string, pattern: string): boolean {
  return fnmatchRegExp(pattern).test(path);
}

export function selects(filter: PathFilter, relativePath: string): boolean {
  if (filter.exclude.some((p) => fnmatch(relativePath, p))) return false;
  if (filter.include.length > 0 && !filter.include.some((p) => fnmatch(relativePath, p))) return false;
  return true;
}

export const NO_FILTER: PathFilter = { include: [], exclude: [] };
