/**
 * Issue 14's recorded disagreements, replayed against `xdelta3 -d`: mutations of fuzz-xdelta3.test.ts at
 * FUZZ_SEED=555148034 (case i is the i-th mutation drawn from that seed) where Glider used to refuse, inside an LZMA
 * section, what xdelta3 3.0.11 + liblzma 5.4.1 accepts ("LZMA2: chunk runs past the end of the section", "XZ: section
 * holds N bytes, expected M"): all 40 such cases of the first 50,000 mutations, #5331 (a whole last chunk read one
 * byte past the section only after the output was full), and a dozen cases with the same old errors that xdelta3
 * refuses too.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VcdiffError } from "../../../src/services/vcdiff/index.js";
import { hasXdelta3 } from "../../helpers/tools.js";
import { seededRandom } from "../../helpers/vcdiff-fixtures.js";
import { CASE_NAMES, decodeAll, loadSubject, mutate } from "../../helpers/vcdiff-fuzz.js";
import { type BatchItem, type SourceFile, xdelta3DecodeBatch } from "../../helpers/xdelta3.js";

const SEED = 555148034;
/** xdelta3 accepts these; Glider refused them before issue 14. */
const ACCEPTED = [
  2072, 2496, 2665, 2888, 4447, 5011, 5331, 6888, 9413, 9996, 11000, 11936, 13776, 14048, 14840, 15432, 15648, 15880,
  15945, 16427, 19656, 20209, 21072, 22480, 22824, 23041, 23152, 28216, 31088, 31520, 33960, 34456, 35136, 37064, 37176,
  38441, 39557, 41880, 47617, 47744, 48153,
];
/** Same old errors, refused by both. */
const REFUSED = [37, 45, 61, 149, 189, 221, 245, 247, 269, 301, 406, 429];

describe("issue 14: LZMA-section cases where Glider and xdelta3 used to disagree", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "glider-lzma-regress-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("Glider and xdelta3 -d agree on accept/refuse and output", { timeout: 300_000 }, async () => {
    expect(hasXdelta3, "xdelta3 must be installed (apt-get install xdelta3)").toBe(true);
    const subjects = await Promise.all(CASE_NAMES.map(loadSubject));
    const sources: (SourceFile | null)[] = [];
    for (const [k, s] of subjects.entries()) {
      if (!s.source) sources.push(null);
      else {
        const path = join(dir, `source-${k}`);
        await writeFile(path, s.source);
        sources.push({ path, size: s.source.length });
      }
    }
    const wanted = new Set([...ACCEPTED, ...REFUSED]);
    const random = seededRandom(SEED);
    const items: BatchItem[] = [];
    const cases: { id: number; ours: { ok: true; out: Buffer } | { ok: false; error: string } }[] = [];
    for (let i = 0; i <= Math.max(...wanted); i++) {
      const s = subjects[i % subjects.length];
      const m = mutate(s, random); // drawn for every i, so case i is the same mutation as in the fuzz run
      if (!wanted.has(i)) continue;
      let ours: (typeof cases)[number]["ours"];
      try {
        ours = { ok: true, out: await decodeAll(m.bytes, s.source, null) };
      } catch (error) {
        if (!(error instanceof VcdiffError)) throw error;
        ours = { ok: false, error: error.message };
      }
      const delta = join(dir, `delta-${i}`);
      await writeFile(delta, m.bytes);
      items.push({ delta, source: sources[i % subjects.length] });
      cases.push({ id: i, ours });
    }
    const theirs = await xdelta3DecodeBatch(items);
    const disagreements: string[] = [];
    for (const [k, { id, ours }] of cases.entries()) {
      const t = theirs[k];
      // The recorded outcome still holds (the fixtures and the mutations have not drifted).
      expect(t.ok, `#${id}: xdelta3 ${t.ok ? "accepts" : "refuses"}`).toBe(ACCEPTED.includes(id));
      if (ours.ok !== t.ok) {
        disagreements.push(
          `#${id}: Glider ${ours.ok ? "accepts" : `refuses (${ours.error})`}, xdelta3 ${t.ok ? "accepts" : "refuses"}`,
        );
      } else if (ours.ok && !ours.out.equals(t.stdout)) {
        disagreements.push(`#${id}: outputs differ`);
      }
    }
    expect(disagreements).toEqual([]);
    expect(cases.length).toBe(wanted.size);
  });
});
