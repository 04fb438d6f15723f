import { parseXML as sdkParseXML } from "@aws-sdk/xml-builder";
import { describe, expect, it } from "vitest";
import { parseXML } from "../../src/cli/sdk-xml-parser.js";

/** The parse result as text (own `__proto__` keys included), or the error's message: what must be identical. */
function outcome(parse: (xml: string) => unknown, xml: string): string {
  try {
    return `ok ${JSON.stringify(parse(xml))}`;
  } catch (error) {
    return `error ${(error as Error).message}`;
  }
}

function expectSame(xml: string) {
  expect(outcome(parseXML, xml), JSON.stringify(xml)).toBe(outcome(sdkParseXML, xml));
}

/** xorshift32: the same documents on every run. */
function random(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  return { next, pick };
}

/** A 1,000-key ListObjectsV2 answer as S3 (and s3rver) writes it. */
function listAnswer(keys: number): string {
  const contents = Array.from(
    { length: keys },
    (_, i) =>
      `<Contents><Key>p/item-${String(i).padStart(5, "0")}.json</Key><LastModified>2026-12-03T10:45:04.000Z</LastModified>` +
      `<ETag>&quot;${(i * 2654435761).toString(16).padStart(32, "0")}&quot;</ETag><Size>${i}</Size>` +
      "<StorageClass>STANDARD</StorageClass></Contents>",
  ).join("");
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Name>sync</Name><Prefix>p/</Prefix><KeyCount>${keys}</KeyCount><MaxKeys>1000</MaxKeys>` +
    `<IsTruncated>false</IsTruncated>${contents}<CommonPrefixes><Prefix>p/a &amp; b/</Prefix></CommonPrefixes>` +
    "</ListBucketResult>"
  );
}

const TAGS = ["Key", "a", "B-c", "x:y", "__proto__", "constructor", "Contents", "é"];
const TEXTS = [
  "",
  "plain",
  " ",
  "\n",
  "  \n  ",
  "\r\n",
  "\r",
  "\t",
  "a&amp;b",
  "&quot;etag&quot;",
  "&quot;&amp;quot;",
  "&&quot;",
  "&lt;&gt;&apos;",
  "&#65;&#x42;&#x1F600;",
  "&#1234567;",
  "&unknown;",
  "&constructor;",
  "&toString;",
  "& lone",
  "&amp",
  "😀 ü",
  "]]>",
  ">",
];
const ATTR_VALUES = ['"v"', "'v'", '"a &amp; b"', '""', "v", '"unclosed', "'it''s'", '"x"y'];

/** A random document near XML: nested elements, attributes, text, CDATA, comments, instructions, doctypes. */
function document(seed: number): string {
  const r = random(seed);
  function element(depth: number): string {
    const tag = r.pick(TAGS);
    let attrs = "";
    if (r.next() < 0.3) {
      const n = 1 + Math.floor(r.next() * 3);
      for (let i = 0; i < n; i++) {
        attrs += `${r.pick([" ", "\n", "  ", "\t"])}${r.pick(["id", "xmlns", "__proto__", "a-b", "n"])}${r.pick(["=", " = ", "="])}${r.pick(ATTR_VALUES)}`;
      }
    }
    if (r.next() < 0.15) return `<${tag}${attrs}${r.pick(["/>", " />", "/"])}`;
    let body = "";
    const parts = depth > 3 ? 0 : Math.floor(r.next() * 4);
    for (let i = 0; i < parts; i++) {
      const kind = r.next();
      if (kind < 0.5) body += element(depth + 1);
      else if (kind < 0.8) body += r.pick(TEXTS);
      else if (kind < 0.87) body += `<![CDATA[${r.pick(["x < y", "", "&amp;", "a]b"])}]]>`;
      else if (kind < 0.94) body += "<!-- note -->";
      else body += "<?pi data?>";
    }
    if (parts === 0 && r.next() < 0.6) body = r.pick(TEXTS);
    const close = r.next() < 0.05 ? r.pick(TAGS) : tag;
    return `<${tag}${attrs}>${body}</${close}${r.pick([">", " >", ">"])}`;
  }
  const prolog = r.pick([
    "",
    '<?xml version="1.0"?>',
    "<?xml version='1.0' encoding='UTF-8'?>\r\n",
    "<!-- c -->\n",
    "<!DOCTYPE a [<!ENTITY x 'y'>]>",
    "<!doctype html>",
    "  \n",
  ]);
  return `${prolog}${element(0)}${r.pick(["", "\n", " trailing", "<extra/>"])}`;
}

/**
 * The CLI bundle parses S3's answers with src/cli/sdk-xml-parser.ts in place of the AWS SDK's parser
 * (scripts/bundle-cli.mjs): it must give exactly what the SDK's gives, and fail where it fails, with its message.
 */
describe("the CLI's XML parser gives what the AWS SDK's parseXML gives", () => {
  it("a 1,000-key LIST answer, an error answer, and S3's other shapes", () => {
    expectSame(listAnswer(1000));
    expectSame(listAnswer(1));
    expectSame(listAnswer(0));
    expectSame(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>x</BucketName><RequestId>1</RequestId></Error>',
    );
    expectSame(
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult><Owner><ID>o</ID></Owner><Buckets><Bucket><Name>a</Name><CreationDate>2026-01-01T00:00:00.000Z</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>',
    );
    expectSame(
      '<?xml version="1.0" encoding="UTF-8"?>\r\n<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\r\n  <Bucket>b</Bucket>\r\n  <Key>k &amp; l</Key>\r\n  <UploadId>u</UploadId>\r\n</InitiateMultipartUploadResult>',
    );
  });

  it("5,000 generated documents, each also cut short at random points and with a character changed", () => {
    const r = random(20);
    for (let seed = 1; seed <= 5000; seed++) {
      const xml = document(seed);
      expectSame(xml);
      const cut = Math.floor(r.next() * xml.length);
      expectSame(xml.slice(0, cut));
      const at = Math.floor(r.next() * xml.length);
      expectSame(
        xml.slice(0, at) + r.pick(["<", ">", "/", "&", "=", '"', " ", "\n", "]", "?", "!"]) + xml.slice(at + 1),
      );
    }
  });

  it("edge cases: empty input, text only, whitespace, mismatched and unclosed tags, attributes without quotes", () => {
    for (const xml of [
      "",
      "   ",
      "text",
      "<",
      "<a",
      "<a>",
      "<a></b>",
      "<a></a >",
      "<a>< /a>",
      "<a/ >",
      "<a b>",
      "<a b=>",
      "<a b='1' c=\"2\"></a>",
      "<a b=1 c=2/>",
      "<a b='1'>t</a>",
      "<a b='1'>\n</a>",
      "<a><b>1</b><b>2</b><b>3</b></a>",
      "<a>x<b/>y</a>",
      "<a>\n  <b/>\n</a>",
      "<a><__proto__>p</__proto__></a>",
      "<a __proto__='p'><b/></a>",
      "<!DOCTYPE",
      "<!DOCTYPE a [",
      "<?xml",
      "<!--",
      "<a><!--</a>",
      "<a><![CDATA[x</a>",
      "<a>&#x;&#;&;</a>",
    ]) {
      expectSame(xml);
    }
  });
});
