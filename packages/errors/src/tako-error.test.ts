import assert from "node:assert/strict";
import { test } from "node:test";
import { REASONS, TakoError } from "./index.js";

test("a TakoError carries its reason, kind, metadata and the registry's hint", () => {
  const err = new TakoError("DAEMON_UNREACHABLE", "supervisor is not answering", {
    metadata: { daemon: "supervisor" },
  });
  assert.equal(err.reason, "DAEMON_UNREACHABLE");
  assert.equal(err.kind, "unavailable");
  assert.equal(err.hint, REASONS.DAEMON_UNREACHABLE.hint);
  assert.deepEqual(err.metadata, { daemon: "supervisor" });
  assert.ok(Object.isFrozen(err.metadata));
  assert.ok(TakoError.is(err, "DAEMON_UNREACHABLE"));
  assert.ok(!TakoError.is(err, "NOT_FOUND"));
  assert.ok(!TakoError.is(new Error("x")));
});

test("an explicit hint overrides the registry's", () => {
  assert.equal(
    new TakoError("NOT_FOUND", "no app web", { hint: "Deploy it first." }).hint,
    "Deploy it first.",
  );
});

test("a reason unknown to this build comes back from the wire as INTERNAL, keeping its message", () => {
  const err = TakoError.fromWire("SOMETHING_NEWER", "newer host says no", { a: "b" }, "");
  assert.equal(err.reason, "INTERNAL");
  assert.equal(err.message, "newer host says no");
  assert.deepEqual(err.metadata, { a: "b" });
  assert.equal(TakoError.fromWire("NOT_FOUND", "x", {}, "").reason, "NOT_FOUND");
});

test("every reason in the registry has a kind and a non-empty hint", () => {
  for (const [name, spec] of Object.entries(REASONS)) {
    assert.match(name, /^[A-Z][A-Z0-9_]*$/);
    assert.ok(spec.hint.length > 0, name);
    assert.ok(spec.kind.length > 0, name);
  }
});
