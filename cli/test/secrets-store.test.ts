// .tako/secrets.json and .tako/keys/<env> on disk: values are never stored in clear, each env has
// its own key (0600), a missing or wrong key is reported with what to do.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { TakoError } from "@tako/errors";
import { SecretsStore } from "../src/secrets/secrets-store.js";

test("secrets round-trip per env through encrypted secrets.json and per-env keys", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tako-secrets-"));
  try {
    const store = await SecretsStore.load(dir);
    await store.set("production", "DB_URL", "postgres://prod-pass");
    await store.set("production", "API_KEY", "k-123");
    await store.set("staging", "DB_URL", "postgres://staging-pass");
    await store.save();
    const text = await readFile(join(dir, ".tako/secrets.json"), "utf8");
    assert.ok(!text.includes("prod-pass") && !text.includes("k-123"), "no value in clear");
    assert.deepEqual(Object.keys(JSON.parse(text).production.app), ["API_KEY", "DB_URL"], "sorted");
    assert.equal((await stat(join(dir, ".tako/keys/production"))).mode & 0o777, 0o600);

    const again = await SecretsStore.load(dir);
    assert.deepEqual(await again.decrypt("production"), { API_KEY: "k-123", DB_URL: "postgres://prod-pass" });
    assert.deepEqual(await again.decrypt("staging"), { DB_URL: "postgres://staging-pass" });
    assert.deepEqual(await again.decrypt("qa"), {});
    assert.ok(again.remove("production", "API_KEY"));
    assert.ok(!again.remove("production", "API_KEY"));

    // Another machine without the key, then with the wrong one.
    await rm(join(dir, ".tako/keys/staging"));
    await assert.rejects(again.decrypt("staging"), (err: unknown) => {
      assert.ok(TakoError.is(err, "SECRETS_KEY_MISSING"));
      assert.match(err.hint, /Copy the key file .tako\/keys\/staging/);
      return true;
    });
    await writeFile(join(dir, ".tako/keys/staging"), await readFile(join(dir, ".tako/keys/production")));
    await assert.rejects(
      again.decrypt("staging"),
      /is not the key the secrets of staging were encrypted with/,
    );
    await assert.rejects(again.set("production", "1BAD", "x"), /name "1BAD" is invalid/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a damaged secrets.json is refused with the file named", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tako-secrets-"));
  try {
    await mkdir(join(dir, ".tako"));
    await writeFile(join(dir, ".tako/secrets.json"), '{"production": {"app": {}}}');
    await assert.rejects(SecretsStore.load(dir), /secrets.json: "production" must be \{"key_id"/);
    await writeFile(join(dir, ".tako/secrets.json"), "{oops");
    await assert.rejects(SecretsStore.load(dir), /secrets.json is not valid JSON/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
