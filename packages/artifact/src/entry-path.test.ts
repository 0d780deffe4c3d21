import assert from "node:assert/strict";
import { test } from "node:test";
import { normalizeEntryPath, symlinkStaysInside } from "./entry-path.js";

test("entry paths are normalized; escapes, absolute paths, NUL and oversize names are refused", () => {
  assert.deepEqual(normalizeEntryPath("./a//b/./c/"), { ok: true, path: "a/b/c" });
  assert.deepEqual(normalizeEntryPath("./"), { ok: true, path: "" });
  assert.deepEqual(normalizeEntryPath("../evil"), { ok: false, why: "contains a '..' segment" });
  assert.deepEqual(normalizeEntryPath("a/../../evil"), { ok: false, why: "contains a '..' segment" });
  assert.deepEqual(normalizeEntryPath("a/b/.."), { ok: false, why: "contains a '..' segment" });
  assert.deepEqual(normalizeEntryPath("/etc/passwd"), { ok: false, why: "is an absolute path" });
  assert.deepEqual(normalizeEntryPath("a\0b"), { ok: false, why: "contains a NUL byte" });
  assert.equal(normalizeEntryPath(`${"x".repeat(256)}`).ok, false);
  assert.equal(normalizeEntryPath("..a/b..").ok, true, "dots inside a name are fine");
});

test("symlinks may point anywhere inside the root, never out of it", () => {
  assert.ok(symlinkStaysInside("a/link", "b"));
  assert.ok(symlinkStaysInside("a/link", "../c/d"));
  assert.ok(symlinkStaysInside("a/b/link", "../../x"));
  assert.ok(!symlinkStaysInside("a/link", "../../x"));
  assert.ok(!symlinkStaysInside("link", ".."));
  assert.ok(!symlinkStaysInside("link", "/etc/passwd"));
  assert.ok(!symlinkStaysInside("link", ""));
});
