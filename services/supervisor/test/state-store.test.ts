// The supervisor's SQLite state: releases with encrypted secrets, desired counts, and the lease
// that says which supervisor generation owns the app processes (and whether it adopted them).
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { makeTempRoot } from "@tako/testkit";
import type { Release } from "../src/release.js";
import { StateStore } from "../src/store/state-store.js";

const release: Release = {
  app: "shop",
  env: "production",
  version: "v1",
  releaseDir: "/x/releases/v1",
  main: "index.mjs",
  vars: { A: "1" },
  secrets: { STRIPE_KEY: "sk_live_secret_value_42" },
  idleTimeoutMs: 300_000,
  startupTimeoutMs: 30_000,
};

test("a committed release comes back whole from another connection; its secrets are not on disk in clear", async () => {
  const temp = await makeTempRoot("store");
  try {
    const a = new StateStore(temp.root);
    a.commitRelease(release, 1, 1);
    a.setDesired("shop", "production", 3);
    a.close();
    const b = new StateStore(temp.root);
    const d = b.deployment("shop", "production");
    assert.deepEqual(d, {
      app: "shop",
      env: "production",
      desired: 3,
      release,
      generation: 1,
      stopped: false,
      lastError: "",
    });
    b.close();
    for (const file of ["supervisor.db", "supervisor.db-wal"]) {
      const bytes = await readFile(join(temp.root, file)).catch(() => Buffer.alloc(0));
      assert.ok(!bytes.includes("sk_live_secret_value_42"), file);
    }
    assert.equal((await import("node:fs")).statSync(join(temp.root, "supervisor.key")).mode & 0o777, 0o600);
  } finally {
    await temp.cleanup();
  }
});

test("the lease goes to one generation at a time; a dead holder loses it", async () => {
  const temp = await makeTempRoot("store");
  try {
    const store = new StateStore(temp.root);
    const old = { pid: 1001, startTicks: "500" };
    const next = { pid: 1002, startTicks: "600" };
    let oldAlive = true;
    const alive = (h: { pid: number }) => h.pid !== old.pid || oldAlive;
    assert.ok(store.tryAcquireLease(old, alive));
    assert.ok(!store.tryAcquireLease(next, alive), "the holder is alive");
    assert.ok(store.tryAcquireLease(old, alive), "the holder may take it again");
    store.releaseLease(next);
    assert.deepEqual(store.leaseHolder(), { ...old, adopted: false }, "only the holder can release it");
    store.markLeaseAdopted(next);
    assert.equal(store.leaseHolder()?.adopted, false, "only the holder can say it adopted the processes");
    store.markLeaseAdopted(old);
    assert.equal(store.leaseHolder()?.adopted, true);
    store.releaseLease(old);
    assert.equal(store.leaseHolder(), undefined);
    assert.ok(store.tryAcquireLease(next, alive));
    oldAlive = false;
    assert.ok(
      store.tryAcquireLease(old, () => false),
      "a dead holder's lease is taken over",
    );
    store.close();
  } finally {
    await temp.cleanup();
  }
});
