import assert from "node:assert/strict";
import { test } from "node:test";
import type { EdgeRequest } from "../static/static-response.js";
import { requestIdFor } from "./request-id.js";
import { hostOf, pathOf } from "./request-target.js";

const req = (headers: Record<string, string>) => ({ headers }) as unknown as EdgeRequest;

test("the host comes from :authority or Host, lowercase, without port or trailing dot", () => {
  assert.equal(hostOf(req({ host: "Example.COM:8443" })), "example.com");
  assert.equal(hostOf(req({ ":authority": "a.test", host: "b.test" })), "a.test");
  assert.equal(hostOf(req({ host: "a.test." })), "a.test");
  assert.equal(hostOf(req({ host: "[::1]:443" })), "[::1]");
  assert.equal(hostOf(req({})), undefined);
  assert.equal(hostOf(req({ host: "a b" })), undefined);
  assert.equal(hostOf(req({ host: "evil.com/x" })), undefined);
});

test("the path drops the query", () => {
  assert.equal(pathOf("/a/b?c=d"), "/a/b");
  assert.equal(pathOf(undefined), "/");
});

test("a client's request id is kept when printable and short, else replaced", () => {
  assert.equal(requestIdFor("  abc-123 "), "abc-123");
  assert.match(requestIdFor("x".repeat(129)), /^[A-Za-z0-9_-]{16}$/);
  assert.match(requestIdFor("bad\u0001id"), /^[A-Za-z0-9_-]{16}$/);
  assert.match(requestIdFor(undefined), /^[A-Za-z0-9_-]{16}$/);
  assert.notEqual(requestIdFor(undefined), requestIdFor(undefined));
});
