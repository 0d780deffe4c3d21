import assert from "node:assert/strict";
import { test } from "node:test";
import { waitFor } from "./wait.js";

test("waitFor returns the first truthy value and times out with the last error", async () => {
  let n = 0;
  assert.equal(await waitFor(() => (++n >= 3 ? n : undefined), { intervalMs: 1 }), 3);
  await assert.rejects(
    waitFor(
      () => {
        throw new Error("not yet");
      },
      { timeoutMs: 30, intervalMs: 5, what: "the thing" },
    ),
    /timed out after 30 ms waiting for the thing: not yet/,
  );
});
