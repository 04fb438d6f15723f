import { adler32 } from "./adler32.js";

/**
 * Adler-32 with WebAssembly SIMD, for the decoder's per-window check: about 2x the word-wise JavaScript version,
 * which took a quarter of the CPU of decoding xdelta3's 256 MiB bench delta. The bytes are adler32-simd.wat compiled
 * by wabt (test/services/vcdiff/adler32-wasm.test.ts checks that they match). Where WebAssembly SIMD is missing, the
 * JavaScript version runs instead.
 */
const WASM =
  "AGFzbQEAAAABDAJgAXsBfmACf38BfwMDAgABBQMBAAEHEwIGbWVtb3J5AgAGdXBkYXRlAAEK8QICHQAgAP0bAK0gAP0bAa18IAD9GwKtIAD9GwOtfHwL0AIDAn4DfwV7IABB//8Dca0hAiAAQRB2rSED/QwQDw4NDAsKCQgHBgUEAwIBIQsgAUFwcSEFAkADQCAEIAVPDQEgBEGAIGohBiAGIAVLBEAgBSEGCyADIAIgBiAEa61+fCED/QwAAAAAAAAAAAAAAAAAAAAAIQj9DAAAAAAAAAAAAAAAAAAAAAAhCf0MAAAAAAAAAAAAAAAAAAAAACEKA0AgBP0ABAAhByAJIAj9rgEhCSAIIAf9ff1//a4BIQggCiAHIAv9ngH9f/2uASEKIAogByAL/Z8B/X/9rgEhCiAEQRBqIQQgBCAGSQ0ACyADIAkQAEIEhiAKEAB8fELx/wOCIQMgAiAIEAB8QvH/A4IhAgwACwsCQANAIAQgAU8NASACIAQxAAB8IQIgAyACfCEDIARBAWohBAwACwsgA0Lx/wOCp0EQdCACQvH/A4Kncgs=";

/** Bytes handed to the module at a time: its one 64 KiB page, small enough to stay in cache while it is summed. */
const STEP = 64 * 1024;

interface Module {
  memory: Uint8Array;
  update(adler: number, length: number): number;
}

function instantiate(): Module | null {
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(WASM, "base64")));
    const exports = instance.exports as { memory: WebAssembly.Memory; update(adler: number, length: number): number };
    return { memory: new Uint8Array(exports.memory.buffer), update: exports.update };
  } catch {
    return null;
  }
}

let module: Module | null | undefined;

/** Whether the WebAssembly version runs here (else adler32Simd is the JavaScript one). */
export function hasAdler32Simd(): boolean {
  if (module === undefined) module = instantiate();
  return module !== null;
}

/** zlib's Adler-32 of buf[start, end), continuing from `initial`; the same results as adler32.ts. */
export function adler32Simd(buf: Uint8Array, start = 0, end = buf.length, initial = 1): number {
  if (module === undefined) module = instantiate();
  if (module === null || end - start < 256) return adler32(buf, start, end, initial);
  const { memory, update } = module;
  let sum = initial >>> 0;
  for (let at = start; at < end; at += STEP) {
    const n = Math.min(STEP, end - at);
    memory.set(buf.subarray(at, at + n));
    sum = update(sum, n) >>> 0;
  }
  return sum;
}
