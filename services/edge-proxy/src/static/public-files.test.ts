import assert from "node:assert/strict";
import { test } from "node:test";
import { looksLikeAsset, normalizeStaticPath } from "./public-files.js";
import { etagMatches } from "./static-response.js";

test("static paths are decoded; dot segments, NUL, backslashes and bad UTF-8 are bad", () => {
  assert.deepEqual(normalizeStaticPath("/a/b.js"), { kind: "ok", path: "/a/b.js" });
  assert.deepEqual(normalizeStaticPath("/a%20b.js"), { kind: "ok", path: "/a b.js" });
  assert.deepEqual(normalizeStaticPath("/a/./b.js"), { kind: "ok", path: "/a/b.js" });
  assert.deepEqual(normalizeStaticPath("//a//b.js"), { kind: "ok", path: "/a/b.js" });
  for (const bad of ["/../x.js", "/a/%2e%2e/x.js", "/a%2f..%2fx.js", "/x%00.js", "/a\\..\\x.js", "/%ff.js"]) {
    assert.deepEqual(normalizeStaticPath(bad), { kind: "bad" }, bad);
  }
});

test("only asset-looking paths are looked up", () => {
  assert.equal(looksLikeAsset("/assets/main.js"), true);
  assert.equal(looksLikeAsset("/.well-known/x.txt"), true);
  assert.equal(looksLikeAsset("/api/users"), false);
  assert.equal(looksLikeAsset("/v1.2/users"), false);
  assert.equal(looksLikeAsset("/file."), false);
});

test("If-None-Match compares a list of tags, weak or strong", () => {
  assert.equal(etagMatches('"1-2"', '"1-2"'), true);
  assert.equal(etagMatches('W/"1-2"', '"1-2"'), true);
  assert.equal(etagMatches('"a", "1-2"', '"1-2"'), true);
  assert.equal(etagMatches("*", '"1-2"'), true);
  assert.equal(etagMatches('"1-3"', '"1-2"'), false);
  assert.equal(etagMatches(undefined, '"1-2"'), false);
});
