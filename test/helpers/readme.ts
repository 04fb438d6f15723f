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
