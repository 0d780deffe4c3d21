import assert from "node:assert/strict";
import { test } from "node:test";
import { hostPaths } from "./paths.js";

test("every path hangs off the root", () => {
  const p = hostPaths("/tmp/x/");
  assert.equal(p.root, "/tmp/x");
  assert.equal(p.runDir, "/tmp/x/var/run/tako");
  assert.equal(p.appDir("web", "production"), "/tmp/x/opt/tako/apps/web/production");
  const prod = hostPaths("/");
  assert.equal(prod.runDir, "/var/run/tako");
  assert.equal(prod.certsDir, "/opt/tako/certs");
  assert.throws(() => hostPaths("relative/dir"), /absolute/);
});
