import assert from "node:assert/strict";
import { test } from "node:test";
import { retryDelayMs } from "./retry-backoff.js";

test("retries double from the minimum and stop growing at the maximum", () => {
  const policy = { retryMinMs: 300_000, retryMaxMs: 6 * 3_600_000 };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 200].map((n) => retryDelayMs(n, policy)),
    [0, 300_000, 600_000, 1_200_000, 2_400_000, 4_800_000, 9_600_000, 19_200_000, 21_600_000, 21_600_000],
  );
});
