import { createHash } from "node:crypto";

/**
 * Hash of an environment's secrets, compared by the CLI and the host so secrets are sent only
 * when they differ: SHA-256 hex over the pairs sorted by name, each name and value prefixed by
 * its UTF-8 byte length as a u64 little-endian (as the original Tako). "" for no secrets.
 */
export function secretsHash(values: Readonly<Record<string, string>>): string {
  const names = Object.keys(values).sort();
  if (names.length === 0) return "";
  const hash = createHash("sha256");
  const length = Buffer.alloc(8);
  for (const name of names) {
    for (const part of [name, values[name] ?? ""]) {
      const bytes = Buffer.from(part, "utf8");
      length.writeBigUInt64LE(BigInt(bytes.length));
      hash.update(length);
      hash.update(bytes);
    }
  }
  return hash.digest("hex");
}
