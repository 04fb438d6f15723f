import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type DefinitionNode, parse, print } from "graphql";
import { REPO_ROOT } from "./shared.js";

/** The fenced code blocks of README.md, read at test time so a changed example is the one tested. */
export function readmeBlocks(lang?: string): { lang: string; code: string; line: number }[] {
  const text = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const blocks: { lang: string; code: string; line: number }[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let match = fence.exec(text); match; match = fence.exec(text)) {
    const line = text.slice(0, match.index).split("\n").length;
    if (lang === undefined || match[1] === lang) blocks.push({ lang: match[1], code: match[2], line });
  }
  return blocks;
}

/** Each operation of the README's GraphQL example block, by name (`Folder`, `Download`, `Savings`). */
export function readmeOperations(): Record<string, { source: string; kind: string }> {
  const [block] = readmeBlocks("graphql");
  if (!block) throw new Error("README.md has no ```graphql block");
  const out: Record<string, { source: string; kind: string }> = {};
  for (const definition of parse(block.code).definitions as DefinitionNode[]) {
    if (definition.kind !== "OperationDefinition" || !definition.name) throw new Error("unnamed README operation");
    out[definition.name.value] = { source: print(definition), kind: definition.operation };
  }
  return out;
}

export interface ReadmeExample {
  /** `sh`, `graphql`, … for fenced blocks ("" when the fence names none); `inline` for a code span. */
  lang: string;
  code: string;
  /** 1-based line of README.md where the block's fence (or the span) starts. */
  line: number;
  /** The heading the example sits under (`Glider` for the text before the first `##`). */
  section: string;
}

/**
 * Every fenced block and every inline code span of README.md with the heading it sits under. Hand-written (two
 * regular expressions over one file the project controls) rather than a markdown parser: no parser is a dependency
 * and the README uses only plain ``` fences and single-backtick spans. A span may wrap across lines (CommonMark:
 * the line break is a space).
 */
export function readmeExamples(): ReadmeExample[] {
  const text = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const lineAt = (index: number) => text.slice(0, index).split("\n").length;
  const headings: { index: number; title: string }[] = [];
  const fences: { start: number; end: number; lang: string; code: string }[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let match = fence.exec(text); match; match = fence.exec(text)) {
    fences.push({ start: match.index, end: match.index + match[0].length, lang: match[1], code: match[2] });
  }
  const inFence = (index: number) => fences.some((f) => index >= f.start && index < f.end);
  const heading = /^#{1,6} +(.+)$/gm;
  for (let match = heading.exec(text); match; match = heading.exec(text)) {
    if (!inFence(match.index)) headings.push({ index: match.index, title: match[1].trim() });
  }
  const sectionAt = (index: number) => headings.filter((h) => h.index <= index).at(-1)?.title ?? "";
  const out: ReadmeExample[] = fences.map((f) => ({
    lang: f.lang,
    code: f.code,
    line: lineAt(f.start),
    section: sectionAt(f.start),
  }));
  // Spans outside fences: the fences are blanked (same length) so indexes and line numbers stay right.
  let prose = text;
  for (const f of fences) prose = prose.slice(0, f.start) + " ".repeat(f.end - f.start) + prose.slice(f.end);
  const span = /(?<!`)`([^`]+)`(?!`)/g;
  for (let match = span.exec(prose); match; match = span.exec(prose)) {
    out.push({
      lang: "inline",
      code: match[1].replace(/\s*\n\s*/g, " "),
      line: lineAt(match.index),
      section: sectionAt(match.index),
    });
  }
  return out.sort((a, b) => a.line - b.line);
}
