import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { test } from "node:test";
import { isInternalRequest, tokensEqual } from "./internal-endpoint.js";

const withHost = (host: string | undefined) =>
  ({ headers: host === undefined ? {} : { host } }) as IncomingMessage;

test("only Host tako.internal (any case, any port) is internal", () => {
  for (const host of ["tako.internal", "TAKO.Internal", "tako.internal:8080"])
    assert.ok(isInternalRequest(withHost(host)), host);
  for (const host of [
    undefined,
    "",
    "app.example.com",
    "tako.internal.example.com",
    "xtako.internal",
    "[::1]:80",
  ]) {
    assert.ok(!isInternalRequest(withHost(host)), String(host));
  }
});

test("tokens compare equal only when identical", () => {
  assert.ok(tokensEqual("abc123", "abc123"));
  assert.ok(!tokensEqual("abc124", "abc123"));
  assert.ok(!tokensEqual("abc12", "abc123"));
  assert.ok(!tokensEqual("", "abc123"));
});
