import assert from "node:assert/strict";
import { test } from "node:test";
import { keyId, newKey, open, seal } from "./secret-box.js";

test("a sealed value opens only with its key, env and name, and is fresh each time", () => {
  const key = newKey();
  const sealed = seal(key, "production", "DB_URL", "postgres://s3cret");
  assert.equal(open(key, "production", "DB_URL", sealed), "postgres://s3cret");
  assert.notEqual(seal(key, "production", "DB_URL", "postgres://s3cret"), sealed, "a new nonce every time");
  assert.ok(!Buffer.from(sealed, "base64").toString("latin1").includes("s3cret"));
  assert.equal(open(newKey(), "production", "DB_URL", sealed), undefined, "another key");
  assert.equal(open(key, "staging", "DB_URL", sealed), undefined, "copied to another env");
  assert.equal(open(key, "production", "API_KEY", sealed), undefined, "copied to another name");
  const raw = Buffer.from(sealed, "base64");
  raw[14] = (raw[14] ?? 0) ^ 1;
  assert.equal(open(key, "production", "DB_URL", raw.toString("base64")), undefined, "tampered");
  assert.equal(open(key, "production", "DB_URL", "AAAA"), undefined, "too short");
});

test("a key id identifies the key without revealing it", () => {
  const key = newKey();
  assert.match(keyId(key), /^[0-9a-f]{16}$/);
  assert.equal(keyId(key), keyId(Buffer.from(key)));
  assert.notEqual(keyId(key), keyId(newKey()));
});
