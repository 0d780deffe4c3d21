import assert from "node:assert/strict";
import { test } from "node:test";
import { parseRoutePattern } from "./route-pattern.js";
import { RouteTable } from "./route-table.js";

const table = (patterns: string[]) =>
  new RouteTable(patterns.map((p, i) => ({ pattern: parseRoutePattern(p), target: `${i}:${p}` })));

test("patterns normalize: lowercase host, trailing slash and dot dropped, /* means any path", () => {
  assert.equal(parseRoutePattern("Example.COM.").text, "example.com");
  assert.equal(parseRoutePattern("example.com/app/").text, "example.com/app");
  assert.equal(parseRoutePattern("example.com/*").text, "example.com");
  assert.equal(parseRoutePattern("*.Example.com/api/*").text, "*.example.com/api/*");
  assert.equal(parseRoutePattern("example.com/").text, "example.com/");
});

test("an exact host beats a wildcard; a longer wildcard suffix beats a shorter one", () => {
  const t = table(["*.example.com", "api.example.com", "*.eu.example.com"]);
  assert.equal(t.match("api.example.com", "/")?.target, "1:api.example.com");
  assert.equal(t.match("x.eu.example.com", "/")?.target, "2:*.eu.example.com");
  assert.equal(t.match("x.example.com", "/")?.target, "0:*.example.com");
  assert.equal(t.match("example.com", "/"), undefined, "a wildcard never matches its apex");
  assert.equal(t.match("eu.example.com", "/")?.target, "0:*.example.com");
});

test("path forms: exact, segment prefix, raw prefix; the longest path wins", () => {
  const t = table(["a.com", "a.com/app/*", "a.com/app/admin", "a.com/blog*", "a.com/"]);
  assert.equal(t.match("a.com", "/app")?.target, "1:a.com/app/*");
  assert.equal(t.match("a.com", "/app/x/y")?.target, "1:a.com/app/*");
  assert.equal(t.match("a.com", "/apple")?.target, "0:a.com");
  assert.equal(t.match("a.com", "/app/admin")?.target, "2:a.com/app/admin");
  assert.equal(t.match("a.com", "/app/admin/")?.target, "2:a.com/app/admin");
  assert.equal(t.match("a.com", "/app/admin/x")?.target, "1:a.com/app/*");
  assert.equal(t.match("a.com", "/blogroll")?.target, "3:a.com/blog*");
  assert.equal(t.match("a.com", "/")?.target, "4:a.com/");
  assert.equal(t.match("b.com", "/"), undefined);
});

test("ties go to the first registered route", () => {
  const t = table(["*.x.com/p*", "*.x.com/q*"]);
  assert.equal(t.routes[0]?.target, "0:*.x.com/p*");
});

test("invalid patterns are refused", () => {
  for (const bad of [
    "",
    "/path",
    "*.com",
    "*",
    "a.*.com",
    "http://a.com",
    "a.com:80",
    "a_b.com",
    "a.com/x*y",
  ]) {
    assert.throws(() => parseRoutePattern(bad), /is invalid/, bad);
  }
});
