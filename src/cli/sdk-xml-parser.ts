/**
 * The AWS SDK's XML parser (`parseXML` of @aws-sdk/xml-builder, dist-es/xml-parser.js), rewritten to scan with
 * `indexOf`/`charCodeAt` and cut with `slice` where the SDK's appends one character at a time. The bundled CLI
 * (scripts/bundle-cli.mjs) uses it in the SDK's place; the server keeps the SDK's own.
 *
 * Why: a process that parses one response runs the parser cold, in V8's interpreter, where a character-by-character
 * loop is slow: the 211 kB answer of a 1,000-key LIST took ~100 ms of the SDK's parser at start-up (12 ms once
 * optimised), a third of an unchanged `glider sync`'s CPU. This one takes a few milliseconds cold.
 *
 * The result is the SDK's, value for value, and so are the errors (same checks in the same order, same messages):
 * test/cli/sdk-xml-parser.test.ts compares the two on real S3 answers and on generated and malformed documents.
 */

type XmlValue = string | XmlObject | XmlValue[];
interface XmlObject {
  [key: string]: XmlValue;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const ENTITY = /&(?:#x([0-9a-fA-F]{1,6})|#(\d{1,7})|([a-zA-Z][a-zA-Z0-9]{0,30}));/g;

/** What ends a tag's name besides ">" (the SDK's set). */
const NAME_STOP = /[ \t\r\n/]/;
const SPACE = 32;
const TAB = 9;
const CR = 13;
const LF = 10;
const GT = 62;
const SLASH = 47;
const EQUALS = 61;
const QUESTION = 63;

function writeKey(obj: object): void {
  Object.defineProperty(obj, "__proto__", { value: undefined, writable: true, enumerable: true, configurable: true });
}

function decodeEntities(s: string): string {
  if (s.indexOf("&") === -1) return s;
  // S3's ETags come quoted as `&quot;…&quot;`: when every "&" starts one, this is what the general rule gives.
  const quotes = s.replaceAll("&quot;", '"');
  if (quotes.indexOf("&") === -1) return quotes;
  return s.replace(ENTITY, (_, hex: string | undefined, dec: string | undefined, named: string) => {
    if (hex) return String.fromCharCode(Number.parseInt(hex, 16));
    if (dec) return String.fromCharCode(Number.parseInt(dec, 10));
    return ENTITIES[named] ?? "";
  });
}

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === CR || c === LF;
}

class Parser {
  private readonly x: string;
  private readonly z: number;
  private i = 0;

  constructor(xml: string) {
    this.x = xml.replace(/\r\n?/g, "\n");
    this.z = this.x.length;
  }

  parse(): XmlObject {
    const z = this.z;
    while (this.i < z) {
      this.trim();
      if (this.i >= z) break;
      if (this.x.startsWith("<?", this.i)) {
        this.readTo("?>");
        this.trim();
      } else if (this.x.startsWith("<!--", this.i)) {
        this.readTo("-->");
        this.trim();
      } else if (this.x.toLowerCase().startsWith("<!doctype", this.i)) {
        this.skipDoctype();
        this.trim();
      } else if (this.x[this.i] === "<") {
        const root = this.parseTag();
        return { [root.tag]: root.value };
      } else {
        throw new Error("@aws-sdk XML parse error: unexpected content.");
      }
    }
    throw new Error("@aws-sdk XML parse error: no root element.");
  }

  private readTo(stop: string): string {
    const end = this.x.indexOf(stop, this.i);
    if (end === -1) throw new Error(`@aws-sdk XML parse error: expected "${stop}" not found.`);
    const result = this.x.slice(this.i, end);
    this.i = end + stop.length;
    return result;
  }

  private trim(): void {
    while (this.i < this.z && isSpace(this.x.charCodeAt(this.i))) ++this.i;
  }

  /** Up to the first character `stops` accepts (or the end). */
  private readUntil(stops: (c: number) => boolean): string {
    const start = this.i;
    while (this.i < this.z && !stops(this.x.charCodeAt(this.i))) ++this.i;
    return this.x.slice(start, this.i);
  }

  private readAttrValue(): string {
    // As the SDK: whatever character comes first is the quote, and a missing closing one ends at the input's end.
    const quote = this.x[this.i];
    ++this.i;
    let value = "";
    if (this.i < this.z) {
      let end = this.x.indexOf(quote, this.i);
      if (end === -1) end = this.z;
      value = this.x.slice(this.i, end);
      this.i = end;
    }
    ++this.i;
    return decodeEntities(value);
  }

  private parseTag(): { tag: string; value: XmlValue } {
    const x = this.x;
    ++this.i;
    // Most tags are a bare name up to ">" (no attributes, not self-closing): one search instead of a loop.
    const gt = x.indexOf(">", this.i);
    const bare = gt === -1 ? undefined : x.slice(this.i, gt);
    const simple = bare !== undefined && !NAME_STOP.test(bare);
    const tag = simple ? bare : this.readUntil((c) => isSpace(c) || c === GT || c === SLASH);
    if (simple) this.i = gt;
    let hasAttrs = false;
    const attrs: Record<string, string> = {};
    while (!simple && this.i < this.z) {
      this.trim();
      const c = x.charCodeAt(this.i);
      if (c === GT || c === SLASH) break;
      const name = this.readUntil((d) => d === EQUALS || isSpace(d) || d === GT || d === SLASH || d === QUESTION);
      this.trim();
      if (x[this.i] !== "=") break;
      ++this.i;
      this.trim();
      if (name === "__proto__") writeKey(attrs);
      attrs[name] = this.readAttrValue();
      hasAttrs = true;
    }
    if (this.i >= this.z) throw new Error("@aws-sdk XML parse error: unexpected end of input.");
    if (x[this.i] === "/") {
      ++this.i;
      if (this.i >= this.z || x[this.i] !== ">") {
        throw new Error("@aws-sdk XML parse error: expected > at the end of self-closing tag.");
      }
      ++this.i;
      return { tag, value: hasAttrs ? attrs : "" };
    }
    if (x[this.i] !== ">") throw new Error("@aws-sdk XML parse error: expected > at the end of opening tag.");
    ++this.i;
    const textParts: string[] = [];
    const childTags: { tag: string; value: XmlValue }[] = [];
    let hasElementChild = false;
    while (this.i < this.z) {
      if (x.startsWith("</", this.i)) break;
      if (x[this.i] === "<") {
        if (x.startsWith("<!--", this.i)) this.readTo("-->");
        else if (x.startsWith("<![CDATA[", this.i)) {
          this.i += 9;
          textParts.push(this.readTo("]]>"));
        } else if (x.startsWith("<?", this.i)) this.readTo("?>");
        else {
          hasElementChild = true;
          childTags.push(this.parseTag());
        }
      } else {
        let end = x.indexOf("<", this.i);
        if (end === -1) end = this.z;
        textParts.push(decodeEntities(x.slice(this.i, end)));
        this.i = end;
      }
    }
    if (!x.startsWith("</", this.i)) throw new Error(`@aws-sdk XML parse error: missing closing tag </${tag}>.`);
    this.i += 2;
    const closeTag = this.readTo(">").trim();
    if (closeTag !== tag) throw new Error(`@aws-sdk XML parse error: mismatched tags <${tag}> and </${closeTag}>.`);
    if (!hasAttrs && textParts.length === 0 && !hasElementChild) return { tag, value: "" };
    if (!hasAttrs && !hasElementChild) {
      const text = textParts.length === 1 ? textParts[0] : textParts.join("");
      if (text.trim() === "" && text.includes("\n")) return { tag, value: "" };
      return { tag, value: text };
    }
    const obj: XmlObject = {};
    for (const text of textParts) {
      if (text.trim() === "" && text.includes("\n")) continue;
      obj["#text"] = "#text" in obj ? obj["#text"] + text : text;
    }
    for (const child of childTags) {
      if (child.tag === "__proto__") writeKey(obj);
      if (child.tag in obj) {
        const existing = obj[child.tag];
        if (Array.isArray(existing)) existing.push(child.value);
        else obj[child.tag] = [existing, child.value];
      } else obj[child.tag] = child.value;
    }
    if (hasAttrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (k === "__proto__") writeKey(obj);
        obj[k] = v;
      }
    }
    return { tag, value: obj };
  }

  private skipDoctype(): void {
    this.i += 9;
    let depth = 0;
    while (this.i < this.z) {
      const c = this.x[this.i];
      if (c === "[") ++depth;
      else if (c === "]") --depth;
      else if (c === ">" && depth === 0) {
        ++this.i;
        return;
      }
      ++this.i;
    }
    throw new Error("@aws-sdk XML parse error: unclosed DOCTYPE.");
  }
}

/** The SDK's `parseXML`: the document's root element as `{ [tag]: value }`. */
export function parseXML(xml: string): XmlObject {
  return new Parser(xml).parse();
}
