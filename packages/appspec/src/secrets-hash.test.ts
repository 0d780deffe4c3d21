import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { secretsHash } from "./secrets-hash.js";

const u64le = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};

test("the secrets hash is SHA-256 over sorted, u64-LE length-prefixed UTF-8 names and values", () => {
  const expected = createHash("sha256")
    .update(Buffer.concat([u64le(1), Buffer.from("A"), u64le(1), Buffer.from("1")]))
    .update(Buffer.concat([u64le(1), Buffer.from("K"), u64le(3), Buffer.from("vé", "utf8")]))
    .digest("hex");
  assert.equal(secretsHash({ K: "vé", A: "1" }), expected);
});

test("order does not matter, length prefixes keep pairs apart, no secrets hash to empty", () => {
  assert.equal(secretsHash({}), "");
  assert.equal(secretsHash({ B: "2", A: "1" }), secretsHash({ A: "1", B: "2" }));
  assert.notEqual(secretsHash({ AB: "C" }), secretsHash({ A: "BC" }));
  assert.notEqual(secretsHash({ A: "1" }), secretsHash({ A: "2" }));
});
