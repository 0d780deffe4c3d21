import assert from "node:assert/strict";
import { test } from "node:test";
import { pidOfSocketFile, processSocketPath, stableSocketPath } from "./socket-names.js";

test("stable and per-process socket names", () => {
  assert.equal(stableSocketPath("/run/tako", "edge"), "/run/tako/edge.sock");
  assert.equal(processSocketPath("/run/tako", "edge", 42), "/run/tako/edge.42.sock");
});

test("the PID is read back only from the daemon's own per-process sockets", () => {
  assert.equal(pidOfSocketFile("edge.42.sock", "edge"), 42);
  assert.equal(pidOfSocketFile("edge.sock", "edge"), undefined);
  assert.equal(pidOfSocketFile("edge.0.sock", "edge"), undefined);
  assert.equal(pidOfSocketFile("edge.4x.sock", "edge"), undefined);
  assert.equal(pidOfSocketFile("tako.42.sock", "edge"), undefined);
  assert.equal(pidOfSocketFile("edge.42.sock.tmp", "edge"), undefined);
});
