import assert from "node:assert/strict";
import { test } from "node:test";
import { TakoError } from "@tako/errors";
import { COMMON_FLAGS, parseFlags } from "./flags.js";

const specs = {
  ...COMMON_FLAGS,
  httpPort: { type: "integer", default: 80, min: 0, max: 65535, description: "HTTP port" },
  verbose: { type: "boolean", default: false, description: "more logs" },
} as const;

test("flags are parsed once into a frozen, fully defaulted object", () => {
  const defaults = parseFlags("edge-proxy", [], specs);
  assert.deepEqual({ ...defaults }, { root: "/", httpPort: 80, verbose: false });
  assert.ok(Object.isFrozen(defaults));
  const set = parseFlags("edge-proxy", ["--root", "/tmp/r", "--http-port", "8080", "--verbose"], specs);
  assert.deepEqual({ ...set }, { root: "/tmp/r", httpPort: 8080, verbose: true });
});

test("bad input names the flag, the problem and an example", () => {
  const bad = (argv: string[], pattern: RegExp) =>
    assert.throws(
      () => parseFlags("edge-proxy", argv, specs),
      (err: unknown) => TakoError.is(err, "CONFIG_INVALID") && pattern.test(err.message),
    );
  bad(
    ["--http-prot", "1"],
    /edge-proxy: Unknown option '--http-prot'.*Valid flags: --root <value>, --http-port <n>, --verbose/,
  );
  bad(
    ["--http-port", "70000"],
    /--http-port must be an integer from 0 to 65535, got "70000" \(example: --http-port 80\)/,
  );
  bad(["--http-port", "12abc"], /--http-port must be an integer/);
  bad(["--root", "relative"], /--root must be an absolute path, got "relative"/);
  bad(["stray"], /Unexpected argument 'stray'/);
});
