export { normalizeEntryPath, symlinkStaysInside } from "./entry-path.js";
export {
  DEFAULT_EXTRACT_LIMITS,
  type ExtractLimits,
  type ExtractResult,
  extractArtifact,
} from "./extract.js";
export { type PackOptions, type PackResult, packArtifact } from "./pack.js";
export { encodeRawArchive, type RawEntry } from "./raw-archive.js";
export {
  BLOCK_BYTES,
  END_OF_ARCHIVE,
  type EntryType,
  encodeHeader,
  entryPadding,
  type RawTarHeader,
  type TarHeader,
} from "./tar-format.js";
