import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { test } from "node:test";
import { followStream } from "./watch.js";

test("a watch is reopened after it ends, and reconnecting leaves no abort listener behind", async () => {
  const ac = new AbortController();
  let opened = 0;
  const seen: number[] = [];
  let listenersBeforeAbort = -1;
  await followStream({
    signal: ac.signal,
    minBackoffMs: 1,
    maxBackoffMs: 1,
    // Each stream yields one message and ends, as a daemon reload ends a watch.
    async *open() {
      opened++;
      yield opened;
    },
    onMessage: (n) => {
      seen.push(n);
      if (n === 30) {
        listenersBeforeAbort = getEventListeners(ac.signal, "abort").length;
        ac.abort();
      }
    },
  });
  assert.equal(opened, 30);
  assert.deepEqual(seen.slice(0, 3), [1, 2, 3]);
  assert.equal(listenersBeforeAbort, 0, "29 reconnects left abort listeners on the signal");
});
