import assert from "node:assert/strict";
import { test } from "node:test";
import { TakoError } from "@tako/errors";
import { ChangeFeed } from "./change-feed.js";

test("a subscriber gets every change published after it subscribed, in order", async () => {
  const feed = new ChangeFeed<number>();
  const abort = new AbortController();
  const sub = feed.subscribe(abort.signal);
  feed.publish(1);
  feed.publish(2);
  const got: number[] = [];
  setTimeout(() => feed.publish(3), 10);
  for await (const n of sub) {
    got.push(n);
    if (got.length === 3) abort.abort();
  }
  assert.deepEqual(got, [1, 2, 3]);
  assert.equal(feed.size, 0, "unsubscribed once the signal aborted");
});

test("a subscriber that falls too far behind is ended with UNAVAILABLE", async () => {
  const feed = new ChangeFeed<number>({ maxQueued: 2 });
  const sub = feed.subscribe(new AbortController().signal);
  for (let i = 0; i < 5; i++) feed.publish(i);
  await assert.rejects(
    (async () => {
      for await (const _ of sub) {
        // drain
      }
    })(),
    (err: unknown) => TakoError.is(err, "UNAVAILABLE"),
  );
  assert.equal(feed.size, 0);
});
