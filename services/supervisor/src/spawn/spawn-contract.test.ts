import assert from "node:assert/strict";
import { test } from "node:test";
import type { Release } from "../release.js";
import { bootstrapEnvelope, instanceEnv, newInstanceId, newToken } from "./spawn-contract.js";

const release: Release = {
  app: "shop",
  env: "staging",
  version: "v3",
  releaseDir: "/opt/tako/apps/shop/staging/releases/v3",
  main: "index.mjs",
  vars: { FEATURE_X: "on", PORT: "9999", NODE_ENV: "development", HOST: "0.0.0.0" },
  secrets: { API_KEY: "k-123" },
  idleTimeoutMs: 300_000,
  startupTimeoutMs: 30_000,
};

test("the environment is the release's vars plus the contract, which vars cannot override", () => {
  const env = instanceEnv(release, { dataDir: "/data", internalSocket: "/run/x.sock" });
  assert.deepEqual(Object.keys(env).sort(), [
    "ENV",
    "FEATURE_X",
    "HOST",
    "NODE_ENV",
    "PATH",
    "PORT",
    "TAKO_APP_NAME",
    "TAKO_BUILD",
    "TAKO_DATA_DIR",
    "TAKO_INTERNAL_SOCKET",
  ]);
  assert.equal(env.FEATURE_X, "on");
  assert.equal(env.PORT, "0");
  assert.equal(env.HOST, "127.0.0.1");
  assert.equal(env.NODE_ENV, "production");
  assert.equal(env.ENV, "staging");
  assert.equal(env.TAKO_APP_NAME, "shop");
  assert.equal(env.TAKO_BUILD, "v3");
  assert.ok(!Object.values(env).includes("k-123"), "no secret in the environment");
});

test("the envelope carries the token, identity and secrets", () => {
  const envelope = JSON.parse(
    bootstrapEnvelope({
      token: "t".repeat(32),
      instanceId: "abcd1234",
      version: "v3",
      secrets: release.secrets,
    }),
  );
  assert.deepEqual(envelope, {
    token: "t".repeat(32),
    instance_id: "abcd1234",
    version: "v3",
    secrets: { API_KEY: "k-123" },
    storages: {},
  });
});

test("instance ids and tokens have their documented shape and do not repeat", () => {
  const ids = new Set(Array.from({ length: 200 }, newInstanceId));
  assert.equal(ids.size, 200);
  for (const id of ids) assert.match(id, /^[a-z0-9]{8}$/);
  assert.match(newToken(), /^[A-Za-z0-9_-]{32}$/);
});
