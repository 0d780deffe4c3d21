import assert from "node:assert/strict";
import { test } from "node:test";
import { TakoError } from "@tako/errors";
import { checkName, checkRoute, checkRoutes, checkVariables, checkVersion, routeHost } from "./validation.js";

const refused = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (err: unknown) => TakoError.is(err, "INVALID_ARGUMENT") && pattern.test(err.message));

test("app and env names", () => {
  assert.equal(checkName("app", "web-2"), "web-2");
  refused(() => checkName("app", "Web"), /app name "Web" is invalid/);
  refused(() => checkName("app", "2web"), /invalid/);
  refused(() => checkName("env", "prod-"), /invalid/);
  refused(() => checkName("env", "a".repeat(64)), /invalid/);
  refused(() => checkName("app", "../x"), /invalid/);
});

test("release versions", () => {
  assert.equal(checkVersion("abc123_4f2e.1"), "abc123_4f2e.1");
  refused(() => checkVersion(".."), /invalid/);
  refused(() => checkVersion("a/b"), /invalid/);
  refused(() => checkVersion(""), /invalid/);
});

test("routes: exact, wildcard and path-prefixed hosts; nothing else", () => {
  assert.equal(checkRoute("Example.com"), "example.com");
  assert.equal(checkRoute("*.example.com"), "*.example.com");
  assert.equal(checkRoute("example.com/app/*"), "example.com/app/*");
  assert.equal(
    checkRoute("Example.COM/API/*"),
    "example.com/API/*",
    "the host is lowercased, the path keeps its case",
  );
  assert.equal(routeHost("example.com/app/*"), "example.com");
  refused(() => checkRoute("/app"), /route "\/app" is invalid/);
  refused(() => checkRoute("ex ample.com"), /invalid/);
  refused(() => checkRoute("a.*.com"), /invalid/);
  refused(() => checkRoute("example.com/../x"), /invalid/);
  refused(() => checkRoutes(["a.com", "A.com"]), /listed twice/);
});

test("vars and secrets", () => {
  assert.deepEqual(checkVariables("vars", { API_URL: "x" }), { API_URL: "x" });
  refused(() => checkVariables("vars", { PORT: "1" }), /PORT is set by Tako/);
  refused(() => checkVariables("secrets", { "BAD-NAME": "1" }), /invalid/);
  refused(() => checkVariables("secrets", { K: "a\0b" }), /NUL/);
});
