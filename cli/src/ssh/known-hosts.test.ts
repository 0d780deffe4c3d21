import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { test } from "node:test";
import {
  fingerprint,
  keyTypeOf,
  knownHostsName,
  matchesHost,
  parseKnownHosts,
  preferredHostKeyTypes,
  verifyHostKey,
} from "./known-hosts.js";

// An ed25519 public key blob: string "ssh-ed25519" + string(32 bytes).
function blob(seed: number): Buffer {
  const type = Buffer.from("ssh-ed25519");
  const key = Buffer.alloc(32, seed);
  const len = (n: number) => Buffer.from([0, 0, 0, n]);
  return Buffer.concat([len(type.length), type, len(key.length), key]);
}
const A = blob(1);
const B = blob(2);
const line = (hosts: string, key: Buffer, marker = "") =>
  `${marker ? `${marker} ` : ""}${hosts} ${keyTypeOf(key)} ${key.toString("base64")}`;

test("names, fingerprints and key types are what OpenSSH prints", () => {
  assert.equal(knownHostsName("example.com", 22), "example.com");
  assert.equal(knownHostsName("127.0.0.1", 2222), "[127.0.0.1]:2222");
  assert.equal(keyTypeOf(A), "ssh-ed25519");
  assert.match(fingerprint(A), /^SHA256:[A-Za-z0-9+/]{43}$/);
  assert.notEqual(fingerprint(A), fingerprint(B));
});

test("plain, listed, wildcard, negated and hashed host patterns match as in OpenSSH", () => {
  assert.ok(matchesHost("example.com", "example.com"));
  assert.ok(matchesHost("a.example.com,[127.0.0.1]:2222", "[127.0.0.1]:2222"));
  assert.ok(matchesHost("*.example.com", "web.example.com"));
  assert.ok(!matchesHost("*.example.com", "example.com"));
  assert.ok(matchesHost("web?.example.com", "web1.example.com"));
  assert.ok(!matchesHost("*.example.com,!bad.example.com", "bad.example.com"));
  assert.ok(matchesHost("EXAMPLE.com", "example.COM"));
  const salt = randomBytes(20);
  const hashed = `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update("[10.0.0.1]:22").digest("base64")}`;
  assert.ok(matchesHost(hashed, "[10.0.0.1]:22"));
  assert.ok(!matchesHost(hashed, "10.0.0.1"));
});

test("a key is trusted, unknown, changed or revoked", () => {
  const entries = parseKnownHosts(
    [
      "# comment",
      line("trusted.example.com", A),
      line("changed.example.com", A),
      line("*", B, "@revoked"),
      "garbage-line",
      line("ca.example.com", B, "@cert-authority"),
    ].join("\n"),
    "/home/u/.ssh/known_hosts",
  );
  assert.equal(entries.length, 4);
  const trusted = verifyHostKey(entries, "trusted.example.com", A);
  assert.equal(trusted.status, "trusted");
  assert.equal(trusted.status === "trusted" && trusted.entry.line, 2);
  assert.equal(verifyHostKey(entries, "new.example.com", A).status, "unknown");
  const changed = verifyHostKey(entries, "changed.example.com", blob(3));
  assert.equal(changed.status, "changed");
  assert.equal(changed.status === "changed" && changed.known[0]?.line, 3);
  assert.equal(verifyHostKey(entries, "trusted.example.com", B).status, "revoked");
  assert.equal(
    verifyHostKey(entries, "ca.example.com", blob(4)).status,
    "unknown",
    "CA lines do not pin keys",
  );
});

test("the host key types known for a host are offered first", () => {
  const rsa = Buffer.concat([
    Buffer.from([0, 0, 0, 7]),
    Buffer.from("ssh-rsa"),
    Buffer.from([0, 0, 0, 1, 1]),
  ]);
  const entries = parseKnownHosts(line("h", rsa), "f");
  assert.deepEqual(preferredHostKeyTypes(entries, "h").slice(0, 3), [
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
  ]);
  assert.equal(preferredHostKeyTypes([], "h")[0], "ssh-ed25519");
});
