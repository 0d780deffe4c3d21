import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeTempRoot, type TempRoot } from "@tako/testkit";
import Database from "better-sqlite3";
import { loadOrCreateKey, secretBox } from "../src/store/secret-box.js";
import { StateStore } from "../src/store/state-store.js";

let temp: TempRoot;
before(async () => {
  temp = await makeTempRoot("store");
});
after(() => temp.cleanup());

test("secrets are stored encrypted: neither the database nor its WAL holds the plaintext", async () => {
  const key = await loadOrCreateKey(join(temp.root, "state/agentd.key"));
  assert.equal((await stat(join(temp.root, "state/agentd.key"))).mode & 0o777, 0o600);
  const file = join(temp.root, "a.db");
  const store = new StateStore(file, secretBox(key));
  const plaintext = `s3cr3t-${randomBytes(8).toString("hex")}`;
  store.putSecrets("web", "production", { DATABASE_URL: plaintext }, "h1");
  assert.deepEqual(store.getSecrets("web", "production"), {
    values: { DATABASE_URL: plaintext },
    hash: "h1",
  });
  for (const f of [file, `${file}-wal`]) {
    const bytes = await readFile(f).catch(() => Buffer.alloc(0));
    assert.equal(bytes.includes(Buffer.from(plaintext)), false, `${f} holds the secret in clear`);
  }
  store.close();
  // Another key cannot read them.
  const other = new StateStore(file, secretBox(randomBytes(32)));
  assert.throws(() => other.getSecrets("web", "production"), /unable to authenticate|auth/i);
  other.close();
  // The same key comes back from the key file.
  assert.deepEqual(await loadOrCreateKey(join(temp.root, "state/agentd.key")), key);
});

test("a deploy lock held by a live owner is refused; a dead owner's lock is taken over", () => {
  const store = new StateStore(join(temp.root, "b.db"), secretBox(randomBytes(32)));
  const a = { pid: 101, startTime: "1" };
  const b = { pid: 202, startTime: "2" };
  const alive = new Set(["101:1", "202:2"]);
  const isAlive = (o: { pid: number; startTime: string }) => alive.has(`${o.pid}:${o.startTime}`);
  assert.equal(store.tryLock("web", "production", a, isAlive), undefined);
  assert.equal(store.tryLock("web", "production", b, isAlive)?.owner.pid, 101);
  assert.equal(store.tryLock("web", "staging", b, isAlive), undefined, "another env is its own lock");
  alive.delete("101:1"); // a crashed
  assert.equal(store.tryLock("web", "production", b, isAlive), undefined);
  store.unlock("web", "production", a); // a stale owner cannot release b's lock
  assert.equal(store.tryLock("web", "production", { pid: 303, startTime: "3" }, () => true)?.owner.pid, 202);
  store.close();
});

test("a database written by a newer agentd is refused rather than misread", () => {
  const file = join(temp.root, "c.db");
  const db = new Database(file);
  db.pragma("user_version = 99");
  db.close();
  assert.throws(
    () => new StateStore(file, secretBox(randomBytes(32))),
    /schema 99 is newer than this agentd understands/,
  );
});
