/**
 * Seeded generator of realistic archive version pairs for VCDIFF stress tests and benchmarks: real zip (stored and
 * deflated members, central directory) and tar (ustar, optionally gzipped) archives of 50–500 members holding text,
 * binary, already-compressed, duplicate and empty files; the next version changes, adds, removes, renames and
 * reorders members, re-compresses at another level, edits a few bytes, appends or truncates data. Written in
 * process with node:zlib (deflate, crc32), so thousands of pairs cost no process spawns; `unzip -t` and `tar -t`
 * accept them (test/helpers/archive-pairs.test.ts checks).
 */
import { crc32, deflateRawSync, gzipSync } from "node:zlib";

export type ArchiveFormat = "zip" | "tar" | "tgz";

export interface ArchivePair {
  seed: number;
  format: ArchiveFormat;
  members: number;
  /** What the new version changed, for failure messages. */
  edits: string[];
  source: Buffer;
  target: Buffer;
}

export interface ArchivePairOptions {
  /** Rough total size of the members' content; default: drawn between 32 KiB and 2 MiB. */
  contentBytes?: number;
  /** Force a format; default: zip 60 %, tar 30 %, tgz 10 %. */
  format?: ArchiveFormat;
}

interface Member {
  name: string;
  data: Buffer;
  /** zip: 0 = stored, 1–9 deflate level. */
  level: number;
  mtime: number;
}

type Random = () => number;

function rng(seed: number): Random {
  // mulberry32: small, seedable, good enough for test data.
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  "the of and to in is for on that with as by this be are from or at it an was which not have has can will all " +
  "function return const let var if else while for import export class interface type string number boolean " +
  "value error result buffer source target window delta archive member version release update config default " +
  "server client request response header body stream chunk offset length size index table hash match copy add"
).split(" ");
const EXTENSIONS = [".txt", ".md", ".js", ".ts", ".json", ".css", ".html", ".c", ".h", ".py", ".xml", ".csv"];
const BINARY_EXT = [".bin", ".dat", ".so", ".o", ".class", ".db"];
const PACKED_EXT = [".png", ".jpg", ".gz", ".woff2", ".zip"];
const DIRS = ["src", "lib", "docs", "assets", "test", "bin", "share/icons", "include", "vendor/pkg", "conf"];

function textContent(r: Random, size: number): Buffer {
  const parts: string[] = [];
  let len = 0;
  let indent = 0;
  while (len < size) {
    const words = 3 + Math.floor(r() * 12);
    let line = "  ".repeat(indent);
    for (let i = 0; i < words; i++) line += `${WORDS[Math.floor(r() ** 2 * WORDS.length)]}${i < words - 1 ? " " : ""}`;
    if (r() < 0.2) line += ` = ${Math.floor(r() * 100000)};`;
    line += "\n";
    indent = Math.max(0, Math.min(6, indent + (r() < 0.3 ? 1 : r() < 0.3 ? -1 : 0)));
    parts.push(line);
    len += line.length;
  }
  return Buffer.from(parts.join("")).subarray(0, size);
}

function binaryContent(r: Random, size: number): Buffer {
  const out = Buffer.alloc(size);
  let p = 0;
  while (p < size) {
    const kind = r();
    const n = Math.min(size - p, 8 + Math.floor(r() * 256));
    if (kind < 0.4) {
      for (let i = 0; i < n; i++) out[p + i] = Math.floor(r() * 256);
    } else if (kind < 0.6) {
      out.fill(Math.floor(r() * 4) * 0x55, p, p + n); // padding / zero runs
    } else if (kind < 0.85) {
      // little-endian tables of small integers (relocations, offsets)
      let v = Math.floor(r() * 65536);
      for (let i = 0; i + 4 <= n; i += 4) {
        out.writeUInt32LE(v >>> 0, p + i);
        v += Math.floor(r() * 64);
      }
    } else {
      const s = textContent(r, n);
      s.copy(out, p);
    }
    p += n;
  }
  return out;
}

function packedContent(r: Random, size: number): Buffer {
  if (r() < 0.5) return gzipSync(textContent(r, size * 3), { level: 6 + Math.floor(r() * 4) });
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(r() * 256);
  return out;
}

function memberSize(r: Random, mean: number): number {
  // Heavy-tailed: most files small, a few large.
  const x = -Math.log(1 - r() * 0.999);
  return Math.floor(mean * x * x * 0.5);
}

function newMember(r: Random, mean: number, index: number, taken: Set<string>): Member {
  const pick = r();
  let data: Buffer;
  let ext: string;
  const size = memberSize(r, mean);
  if (pick < 0.04) {
    data = Buffer.alloc(0);
    ext = ".keep";
  } else if (pick < 0.6) {
    data = textContent(r, size);
    ext = EXTENSIONS[Math.floor(r() * EXTENSIONS.length)];
  } else if (pick < 0.82) {
    data = binaryContent(r, size);
    ext = BINARY_EXT[Math.floor(r() * BINARY_EXT.length)];
  } else {
    data = packedContent(r, size);
    ext = PACKED_EXT[Math.floor(r() * PACKED_EXT.length)];
  }
  let name: string;
  do {
    name = `${DIRS[Math.floor(r() * DIRS.length)]}/${WORDS[Math.floor(r() * WORDS.length)]}_${index}${ext}`;
    index += 1000;
  } while (taken.has(name));
  taken.add(name);
  const packed = PACKED_EXT.includes(ext);
  return { name, data, level: packed || data.length < 64 ? 0 : 6, mtime: 1_700_000_000 + Math.floor(r() * 1e7) };
}

function editBytes(r: Random, data: Buffer, edits: number): Buffer {
  const out = Buffer.from(data);
  for (let e = 0; e < edits && out.length > 0; e++) {
    const at = Math.floor(r() * out.length);
    const n = Math.min(out.length - at, 1 + Math.floor(r() * 24));
    for (let i = 0; i < n; i++) out[at + i] = Math.floor(r() * 256);
  }
  return out;
}

function insertText(r: Random, data: Buffer): Buffer {
  const at = Math.floor(r() * (data.length + 1));
  return Buffer.concat([data.subarray(0, at), textContent(r, 1 + Math.floor(r() * 400)), data.subarray(at)]);
}

/** Applies 1–8 random changes to a copy of the member list; returns the descriptions. */
function nextVersion(r: Random, members: Member[], mean: number, taken: Set<string>): [Member[], string[], number] {
  const out = members.map((m) => ({ ...m }));
  const edits: string[] = [];
  let level = -1;
  const ops = r() < 0.05 ? 0 : 1 + Math.floor(r() * 8);
  if (ops === 0) edits.push("identical");
  const any = () => Math.floor(r() * out.length);
  for (let o = 0; o < ops; o++) {
    const op = Math.floor(r() * 12);
    const i = any();
    const m = out[i];
    if (op <= 2 && m) {
      const kind = Math.floor(r() * 5);
      if (kind === 0) m.data = editBytes(r, m.data, 1 + Math.floor(r() * 6));
      else if (kind === 1) m.data = insertText(r, m.data);
      else if (kind === 2) m.data = Buffer.concat([m.data, textContent(r, 1 + Math.floor(r() * 2000))]);
      else if (kind === 3) m.data = m.data.subarray(0, Math.floor(m.data.length * r()));
      else m.data = newMember(r, mean, i, new Set()).data;
      m.mtime += 1 + Math.floor(r() * 86400);
      edits.push(`change ${m.name} (${["bytes", "insert", "append", "truncate", "rewrite"][kind]})`);
    } else if (op === 3 || op === 4) {
      const added = newMember(r, mean, out.length + o * 7919, taken);
      out.splice(Math.floor(r() * (out.length + 1)), 0, added);
      edits.push(`add ${added.name}`);
    } else if (op === 5 && out.length > 50 && m) {
      out.splice(i, 1);
      edits.push(`remove ${m.name}`);
    } else if (op === 6 && m) {
      const renamed = `${m.name.replace(/\.[a-z0-9]+$/, "")}-renamed${m.name.slice(m.name.lastIndexOf("."))}`;
      edits.push(`rename ${m.name}`);
      m.name = renamed;
    } else if (op === 7) {
      // Move a block of members elsewhere (reordering).
      const n = 1 + Math.floor(r() * Math.min(20, out.length));
      const block = out.splice(any(), n);
      out.splice(Math.floor(r() * (out.length + 1)), 0, ...block);
      edits.push(`move ${block.length} members`);
    } else if (op === 8) {
      level = [0, 1, 3, 9][Math.floor(r() * 4)];
      edits.push(`recompress level ${level}`);
    } else if (op === 9 && m) {
      const dup = { ...m, name: `${m.name}.copy` };
      out.splice(Math.floor(r() * (out.length + 1)), 0, dup);
      edits.push(`duplicate ${m.name}`);
    } else if (op === 10 && m) {
      m.data = Buffer.alloc(0);
      edits.push(`empty ${m.name}`);
    } else {
      for (const x of out) x.mtime += 3600; // a rebuild touches every timestamp
      edits.push("touch all");
    }
  }
  if (level >= 0) for (const m of out) if (m.level > 0 || level > 0) m.level = m.data.length < 64 ? 0 : level;
  return [out, edits, level];
}

function dosTime(unix: number): [number, number] {
  const d = new Date(unix * 1000);
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  return [time, date];
}

/** A zip archive (PKZIP 2.0: stored or deflated members, central directory, end record). */
export function writeZip(members: Member[], comment = ""): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const name = Buffer.from(m.name);
    const crc = crc32(m.data);
    const body = m.level > 0 ? deflateRawSync(m.data, { level: m.level }) : m.data;
    const method = m.level > 0 ? 8 : 0;
    const [time, date] = dosTime(m.mtime);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(m.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(0x031e, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt16LE(time, 12);
    cd.writeUInt16LE(date, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(body.length, 20);
    cd.writeUInt32LE(m.data.length, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    cd.writeUInt32LE(offset, 42);
    parts.push(local, name, body);
    central.push(cd, name);
    offset += 30 + name.length + body.length;
  }
  const cdBytes = Buffer.concat(central);
  const note = Buffer.from(comment);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cdBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(note.length, 20);
  return Buffer.concat([...parts, cdBytes, end, note]);
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

/** A POSIX ustar archive (512-byte headers, data padded to 512, two zero blocks at the end). */
export function writeTar(members: Member[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    const header = Buffer.alloc(512);
    let name = m.name;
    let prefix = "";
    if (Buffer.byteLength(name) > 100) {
      const cut = name.lastIndexOf("/", 154);
      prefix = name.slice(0, cut);
      name = name.slice(cut + 1);
    }
    header.write(name, 0, 100);
    header.write(octal(0o644, 8), 100);
    header.write(octal(1000, 8), 108);
    header.write(octal(1000, 8), 116);
    header.write(octal(m.data.length, 12), 124);
    header.write(octal(m.mtime, 12), 136);
    header.write("        ", 148);
    header.write("0", 156);
    header.write("ustar\u000000", 257);
    header.write("glider", 265);
    header.write("glider", 297);
    header.write(prefix, 345, 155);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    parts.push(header, m.data);
    const pad = (512 - (m.data.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

function writeArchive(format: ArchiveFormat, members: Member[], level: number): Buffer {
  if (format === "zip") return writeZip(members);
  const tar = writeTar(members);
  return format === "tar" ? tar : gzipSync(tar, { level: level > 0 ? level : 6 });
}

/** One seeded pair: the same seed always gives the same bytes. */
export function archivePair(seed: number, options: ArchivePairOptions = {}): ArchivePair {
  const r = rng(seed);
  const f = r();
  const format: ArchiveFormat = options.format ?? (f < 0.6 ? "zip" : f < 0.9 ? "tar" : "tgz");
  const count = 50 + Math.floor(r() ** 2 * 451);
  const contentBytes = options.contentBytes ?? Math.floor(32 * 1024 * 64 ** r());
  const mean = Math.max(16, contentBytes / count);
  const taken = new Set<string>();
  const members: Member[] = [];
  for (let i = 0; i < count; i++) members.push(newMember(r, mean, i, taken));
  // Some members start as identical copies of others.
  for (let i = 0; i < count / 20; i++) {
    const from = members[Math.floor(r() * count)];
    const to = members[Math.floor(r() * count)];
    if (from !== to) to.data = from.data;
  }
  const [next, edits, level] = nextVersion(r, members, mean, taken);
  const source = writeArchive(format, members, -1);
  let target = writeArchive(format, next, level);
  // Archive-level changes: data appended after the archive (installers, signatures) or a cut-off copy.
  const tail = r();
  if (tail < 0.04) {
    target = Buffer.concat([target, binaryContent(r, 1 + Math.floor(r() * 5000))]);
    edits.push("append data");
  } else if (tail < 0.06) {
    target = target.subarray(0, Math.floor(target.length * (0.5 + r() / 2)));
    edits.push("truncate archive");
  }
  return { seed, format, members: next.length, edits, source, target };
}
