import assert from "node:assert/strict";
import { test } from "node:test";
import { TakoError } from "@tako/errors";
import { assertSocketPath, MAX_SOCKET_PATH_BYTES } from "./socket-path.js";

test("a socket path at the kernel limit passes, one byte more is refused with a clear reason", () => {
  assertSocketPath(`/${"a".repeat(MAX_SOCKET_PATH_BYTES - 1)}`);
  assert.throws(
    () => assertSocketPath(`/${"a".repeat(MAX_SOCKET_PATH_BYTES)}`),
    (err: unknown) => TakoError.is(err, "SOCKET_PATH_TOO_LONG") && /at most 107/.test(err.message),
  );
});

test("the limit counts bytes, not characters", () => {
  const path = `/${"é".repeat(60)}`; // 61 characters, 121 bytes
  assert.throws(
    () => assertSocketPath(path),
    (err: unknown) => TakoError.is(err, "SOCKET_PATH_TOO_LONG"),
  );
});
