import assert from "node:assert/strict";
import { test } from "node:test";
import { RestartPolicy } from "./restart-policy.js";

test("restarts back off exponentially and a crash loop gives up", () => {
  const p = new RestartPolicy({ baseDelayMs: 100, maxDelayMs: 350, maxCrashes: 4, windowMs: 1000 });
  assert.deepEqual(p.recordCrash(0), { action: "restart", delayMs: 100, crashesInWindow: 1 });
  assert.deepEqual(p.recordCrash(10), { action: "restart", delayMs: 200, crashesInWindow: 2 });
  assert.deepEqual(p.recordCrash(20), { action: "restart", delayMs: 350, crashesInWindow: 3 });
  assert.deepEqual(p.recordCrash(30), { action: "give-up", crashesInWindow: 4, windowMs: 1000 });
});

test("crashes older than the window are forgotten", () => {
  const p = new RestartPolicy({ baseDelayMs: 100, maxCrashes: 3, windowMs: 1000 });
  p.recordCrash(0);
  p.recordCrash(500);
  assert.deepEqual(p.recordCrash(1600), { action: "restart", delayMs: 100, crashesInWindow: 1 });
});
