/** Self-contained VCDIFF (RFC 3284 + xdelta3 extensions) codec. Imports nothing from the rest of the app. */
export { adler32 } from "./adler32.js";
export {
  DEFAULT_MAX_TARGET_HISTORY,
  DEFAULT_MAX_WINDOW_SIZE,
  type DecodeOptions,
  decodeVcdiffBuffer,
  openVcdiff,
  type VcdiffReader,
  type WindowSlice,
} from "./decoder.js";
export { type EncodeOptions, encodeVcdiff, encodeVcdiffBuffer } from "./encoder.js";
export { isVcdiffError, VcdiffError, type VcdiffErrorCode } from "./errors.js";
export {
  type AppHeader,
  parseAppHeader,
  type SecondaryCompressor,
  VCD_ADDRCOMP,
  VCD_ADLER32,
  VCD_APPHEADER,
  VCD_CODETABLE,
  VCD_DATACOMP,
  VCD_DECOMPRESS,
  VCD_INSTCOMP,
  VCD_SOURCE,
  VCD_TARGET,
  type VcdiffHeader,
  type WindowHeader,
} from "./header.js";
export { EncoderInvariantError } from "./instruction-writer.js";
export { bufferSource, fileSource, type SourceReader } from "./source-reader.js";
