import { createHash, createHmac } from "node:crypto";

// known_hosts checking, as strict as OpenSSH's StrictHostKeyChecking=yes: a host key is trusted
// only when a known_hosts entry for the host holds exactly that key. There is no trust on first
// use; the CLI prints the fingerprint and the exact line to add instead.

/** One usable line of a known_hosts file. */
export interface KnownHostEntry {
  readonly file: string;
  readonly line: number;
  readonly marker: "" | "@revoked" | "@cert-authority";
  readonly patterns: string;
  readonly keyType: string;
  readonly keyBlob: Buffer;
}

export type HostKeyVerdict =
  | { readonly status: "trusted"; readonly entry: KnownHostEntry }
  | { readonly status: "unknown" }
  | { readonly status: "changed"; readonly known: readonly KnownHostEntry[] }
  | { readonly status: "revoked"; readonly entry: KnownHostEntry };

/** The name OpenSSH records for a host: "host" on port 22, "[host]:port" otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** "SHA256:…" fingerprint of a raw public key blob, as `ssh-keygen -l` prints it. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/** The key type named inside an SSH public key blob ("ssh-ed25519", "ecdsa-sha2-nistp256"…). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return "unknown";
  const length = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + length).toString("latin1");
}

/** Parses known_hosts text; malformed lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry["marker"] = "";
    if (fields[0] === "@revoked" || fields[0] === "@cert-authority") {
      marker = fields.shift() as KnownHostEntry["marker"];
    }
    const [patterns, keyType, b64] = fields;
    if (!patterns || !keyType || !b64) return;
    const keyBlob = Buffer.from(b64, "base64");
    if (keyBlob.length === 0) return;
    entries.push({ file, line: index + 1, marker, patterns, keyType, keyBlob });
  });
  return entries;
}

/** True when the host name matches the entry's patterns (hashed, lists, wildcards, negation). */
export function matchesHost(patterns: string, name: string): boolean {
  if (patterns.startsWith("|1|")) {
    const [, , salt, mac] = patterns.split("|");
    if (!salt || !mac) return false;
    const expected = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64");
    return expected === mac;
  }
  let matched = false;
  for (const pattern of patterns.split(",")) {
    const negated = pattern.startsWith("!");
    const glob = negated ? pattern.slice(1) : pattern;
    if (globMatch(glob.toLowerCase(), name.toLowerCase())) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function globMatch(glob: string, text: string): boolean {
  const regex = new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  return regex.test(text);
}

/** Decides whether `keyBlob`, offered by host `name`, is trusted by these entries. */
export function verifyHostKey(
  entries: readonly KnownHostEntry[],
  name: string,
  keyBlob: Buffer,
): HostKeyVerdict {
  const forHost = entries.filter((e) => e.marker !== "@cert-authority" && matchesHost(e.patterns, name));
  const revoked = entries.find((e) => e.marker === "@revoked" && e.keyBlob.equals(keyBlob));
  if (revoked) return { status: "revoked", entry: revoked };
  const trusted = forHost.find((e) => e.marker === "" && e.keyBlob.equals(keyBlob));
  if (trusted) return { status: "trusted", entry: trusted };
  const known = forHost.filter((e) => e.marker === "");
  return known.length > 0 ? { status: "changed", known } : { status: "unknown" };
}

/**
 * Host key algorithms to offer, the ones already known for this host first, so a server with
 * several host keys presents the one known_hosts holds (as OpenSSH does).
 */
export function preferredHostKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  const known = entries.filter((e) => e.marker === "" && matchesHost(e.patterns, name)).map((e) => e.keyType);
  const all = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
  ];
  const expand = (type: string) =>
    type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [type];
  const first = known.flatMap(expand).filter((t) => all.includes(t));
  return [...new Set([...first, ...all])];
}
