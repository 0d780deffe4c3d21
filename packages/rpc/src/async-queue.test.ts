import assert from "node:assert/strict";
import { test } from "node:test";
import { AsyncQueue } from "./async-queue.js";

test("items pushed before and after a reader waits arrive in order, then the end", async () => {
  const q = new AsyncQueue<number>();
  q.push(1);
  const it = q[Symbol.asyncIterator]();
  assert.deepEqual(await it.next(), { value: 1, done: false });
  const pending = it.next();
  q.push(2);
  assert.deepEqual(await pending, { value: 2, done: false });
  q.end();
  assert.deepEqual(await it.next(), { value: undefined, done: true });
  assert.throws(() => q.push(3), /push after end/);
});

test("fail() rejects a waiting reader", async () => {
  const q = new AsyncQueue<number>();
  const pending = q[Symbol.asyncIterator]().next();
  q.fail(new Error("cancelled"));
  await assert.rejects(pending, /cancelled/);
});
