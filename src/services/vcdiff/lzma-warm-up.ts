/**
 * A small LZMA2 stream that every process decodes once before its first real LZMA section.
 *
 * Why: V8 compiles LzmaDecoder.decodeChunk (one large loop) with the type feedback gathered so far. A real section
 * reaches its rarer branches (rep1-3 matches, long lengths, far distances, dictionary wrap-around) and even the code
 * after the loop only after the compiler has started, and each such branch then throws the optimised code away
 * ("insufficient type feedback"): on xdelta3's 256 MiB bench delta, the first decode of 3 MB of LZMA sections took
 * 1-4 s against 0.2-0.4 s once warm. Decoding this stream first, in the interpreter (about 10 ms), runs every branch
 * once and returns, so the first optimised build already has them all.
 *
 * WARM_UP_XZ is warmUpContent() compressed by liblzma (python3: LZMA2, preset 9 | extreme, dict_size 4096, so the
 * 4 KiB dictionary wraps; check none), cut after the LZMA2 end byte; test/services/vcdiff/lzma-warm-up.test.ts
 * checks that it decodes to warmUpContent() and shows how to remake it.
 */

/** Deterministic bytes that exercise every LZMA symbol kind: text, noise, runs, long and far repeats, rep1-3. */
export function warmUpContent(): Uint8Array {
  let seed = 22;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const words = Array.from({ length: 48 }, () =>
    Array.from({ length: 1 + (next() % 8) }, () => String.fromCharCode(97 + (next() % 26))).join(""),
  );
  const text = new TextEncoder().encode(Array.from({ length: 700 }, () => words[next() % words.length]).join(" "));
  const out: number[] = [];
  const push = (bytes: ArrayLike<number>) => {
    for (let i = 0; i < bytes.length; i++) out.push(bytes[i]);
  };
  push(text.subarray(0, 2500)); // literals, matched literals, short and mid matches
  for (let i = 0; i < 400; i++) out.push(next() & 0xff); // noise: literals only
  push(text.subarray(100, 1400)); // a far match longer than 273: high lengths, then rep0
  for (let i = 0; i < 300; i++) out.push(0); // a run: distance 0, short reps
  for (let i = 0; i < 120; i++) push([97, 98, 99]);
  for (let i = 0; i < 240; i++) {
    // Copies from four distances in turn, split by noise: rep1, rep2 and rep3 matches.
    const from = out.length - [211, 307, 401, 503][i % 4];
    push(out.slice(from, from + 3 + (i % 9)));
    out.push(next() & 0xff);
  }
  // The 4 KiB dictionary buffer wraps at every multiple of 4096: make the next wrap fall among literals.
  push(text.subarray(2600, 2600 + 8000 - out.length));
  for (let i = 0; i < 400; i++) out.push(next() & 0xff);
  return Uint8Array.from(out);
}

/** warmUpContent().length */
export const WARM_UP_LENGTH = 8400;

export const WARM_UP_XZ = [
  "/Td6WFoAAAD/EtlBAgAhAQAAAAA3J5fW4CDPCWZdADQbyGpl/K40y1B+Ob8JrByAak5hvZQ3eH6Wa+idjUsnm+B9pDyvGs8Cx7Rfo9kF5ERD",
  "WscEWtTv4ao6wlMmlzDdLOLp6wSqmemqsHsMVOojldQyAGpqEmMqCyTE9DpSmldlsRjltgsrWGbsAUJLlMPdKiLvzQGbJyuuFYijSNj4kDw7",
  "mfJXnjBh9eZC8F0d+4EbjwvjHc8U3nXlnszysrpMQMUjwMllSTnlPqTqQuM5ua7+QJbjR8TY4zDJ6TouoIly8efHIW+h8kAt9NfxFLPLSOQk",
  "pYtkLnbuLRtMuOn1SwAZqioOCa+EkUv2VM/5+m1CdT5wi6sEP2cuJDcR8kapYlPexnrOHdFy3joc+p9OjnZml/Ezh8OXVX8e2d0SE0LNFF0T",
  "/sBP1cdoIMwJnDcx3gRq8bth6q3xLaGAmiM/naIYjQpcdEOqyQhKg0rXfJ5FpSkXFZdydM4Vm96IDt54LQU4K6ppSzf4rpVPosjfVKJ9DiyC",
  "7oBN1atytoHJqJhpPDItQ5FWs99zUhFAI3USjymZWmcigfRUW9J8a6EJHoN7bA5UDr0cw7gYmVTbDpCfN6ERmo2e/edtqGd82N+df1GFgb34",
  "7yY4z3qqdnNGvIt1TA0Q0Z2SAMf4VyNvrCQKYKJ6tNVKFLsNDO45Kw5fX4N1l5tQ0wHJvnOT6+knu+pGmaVnyALjY1eLH5RU3JhxM9rOxm9u",
  "XoVQ5liSLlDEOHaWblGX5ASxvVD5iEehRl+t7fQG4ObJL7WzUjRh65MPvcPaEN7Zx1nrZ89fJNofzpzCQwnBFh4/h9b78Z4hRYPuUBXXKiH1",
  "cQfPT6CM/PHHr7MVyyIayowB6IFeDYAvr6MkLfPSXOgofkm8hxW5UUEiNdZnu3RDftPJgzchPuFupFac6ZNGh5+3yNWrgLUwC8nr3z4ngw3b",
  "Yg7KGSiuGdmvfKnu5l/eL5BtGioLecflhup8m6p77FhbNn5h7Ty6cYCZnJuYdUUaBzWJ8BQWKr0kX3BBZeTCvdFjXrg7j1niPrtZ1N/fuE/M",
  "QuvtVtpmY05WOpLwJVu6tSdTWOSwhdPfMiuH+Dz3TogiMqiK+wjApXVfT1FzglfwefUOpFSALDMyrn5mLQO8P2zLj1co0riprXaEPhxE4plT",
  "+DUoIZfTpXvFsL4SSJjSLIYQo0Ya21fdHAk5yM3SEmcZgqHpkJ5PkT6sw/6ERsl/w2WG4XSC++zeHBHbiSJryGwxjMBXt5ySQt+xGmnjVJUz",
  "AgHrknLGFh+zAvZ7kMPxvtt5r6L/bWnni5iS1+89v5bDfpxeRMn/b3Ym9qoCcRITUp0vB//UsdRkU++2YPs35ODtOqtSSEApN6vxX7vQ9siy",
  "HM7pR7QP3dJvIDiFK1jFNnuCKmnbM+KQoDzhrHNavB5ome+Dw1AOwMv2xtwCjwc3O2zZrwKlDvxEihAkVw224cZWdrkUxFojBOyc5RlTDWfE",
  "TMW8KLTnk8s2h4OEDi1H9qOWynGWVUWBpFrJlOLg7FqRhmetiEZO9v/cLNAjEI19pUnmZk/m03Ti6RYSwdS5XgQDWg44Ph9TnS/lZkJaqRYj",
  "ri6IbMvy5QaQ7UTSBnHEwXZdvHuul8MyD5sjV+R/8SanTRYAjvtzWMyL0xchA9FjsSl8ULDhVYC4CRXWoO7hRR/hEdpZyxFK/dew9oC+SLAu",
  "7xsHrwkPHzk9qkHra+eDY7QoxVnKxdk1Ss0iOJxkibWWIOI8xknf5o3F/R6gqAN3IF4Utkh+BsNQqnvvbZ+UC+eIQaq5+QfhnZGTP5Vd0kFN",
  "7lgA8Wq9qDDGZfJlttkMeGdCfCL32Nh0HopQT7WfxRNnu949K199/+v1OXnjaYVWnVJW54JpTaVOsnWs/x4cYPe6axYRweF5BAPlJjnj4woM",
  "39LFAHvlatLdbkIQ/oOxn1wrb/xSHsO3146M895B7+lMso4YnxEZ+8C2zDx8CGbhdhQcytJiQznR4UV0LnucW8wgjK4aBwsbVUCFfO3k+sko",
  "eXh0+N0tJUXccC50MxoA2ucZnnK3gWGfzgwY/XI1/IZ8Ln1wikTwbwgSQxeLyhSkSWUHOPCNJP/Mm29+g6vjzUxRU1pZRWiObICmShvAUIpe",
  "URhFL0OsvmNkmA2d2ps2yAkUtiMbVEAa6Z+3wHvKTNN4NNyXJDvzZjlOwyMO+qRTU/cV6veGokvt9v2N/SeNXBnRiaPg8htI5skf3v/0rOJV",
  "kfaUT81RPzHwiahjvw/jBQybh9VjcRDTPs4A9D7+ksSNdZOkY8vuPyNFk2wZNyPxSZktWznUmjmHqsV1L8knYY7RcYjfq4Ef30drBn7QzICM",
  "r35PGV6N94djc+1pw8/7UoatWgbn+RX9SbikzrFvpPGnKAz5jT+3gTCrSxS64qvzA/tOZUPWAPaLgbIuYzoMFtx+SBlA3FGndgnTrR+nQtcf",
  "UCAU/537qKHogdt3Fs/zM9MMDLiHGDFaaB872TSiVjWTDGQRouBlFvBrKY81WeXcZ5kxqKLYWtV3d/sMDPoXd5WnwfzrcNuLfoME4Pk012wD",
  "AiY+MpwG02UsnxsEK3Ayy996p2BkbQ8DwBbwKO73grp2x69kVoV616n8a49s3iopwowcWnTM7FPezUx7xV8ZjEZUdoWjkTZnkDe61mNE2jWv",
  "SwIIVcc0aTqAKL6HWbN44biz8Ch34bwfwKISveyzpVmUBXXv4reTjC8L5YHFv6McIIJG0Q3dOhnmWZErumZBKmCxIwnlvHh01Gker4cO0z9V",
  "GbElkiZOiszaAstDnThyJhnBj9hMumkmNoLJdbSyFDkWEnOBMmKKUqOm2MIwxxgyguqTz6Ag1wfMLPeYp5Uatji2Zenf7lDKtpBhbqGwdZ/B",
  "JgIsoHi2pXs61IkxQPDTYbjpCAGLc9i76MXxHfYmxLjxOWHIB2tdMSCiFB9DdwXBEg174WVee1yuEj0TnPbHRfGtRDtYz4CdduVf+VBIhB66",
  "8Fd+xtIFdVZVUA7gR6sHQTXnMNyrtoLpOB340jlxCpuQpBSOA/81QEcGuWBVhOnNu1LlqFS/hZCOMtvxyx2ZV6wTDGYwT1dv4B0+UKFRex7U",
  "04hGwOqxShWy6f8IdipJALWqvEahBdt/VXwJwEfw1otpi12V4ATU31XEbGMbOig2gGFPjfh9lzvATuCcUVW3SwZY7oAKSdcw89PcvkpukRCK",
  "4YjONb0/sAA=",
].join("");
