import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { TakoError } from "@tako/errors";
import { Terminal } from "./terminal.js";

function capture(mode: { json?: boolean; ci?: boolean; tty?: boolean }) {
  const stdout = Object.assign(new PassThrough(), { isTTY: mode.tty ?? false });
  const stderr = Object.assign(new PassThrough(), { isTTY: mode.tty ?? false });
  const read = (s: PassThrough) => (s.read() ?? "").toString();
  const term = new Terminal(
    { json: mode.json ?? false, ci: mode.ci ?? false, verbose: false },
    { stdout, stderr },
  );
  return { term, out: () => read(stdout), err: () => read(stderr) };
}

test("results go to stdout, human lines to stderr", () => {
  const t = capture({});
  t.term.info("working");
  t.term.result("done", { ok: true });
  assert.equal(t.out(), "done\n");
  assert.equal(t.err(), "working\n");
});

test("--json prints only JSON on stdout, and errors as {ok:false} too", () => {
  const t = capture({ json: true });
  t.term.info("hidden");
  t.term.result("human", { ok: true, n: 1 });
  assert.deepEqual(JSON.parse(t.out()), { ok: true, n: 1 });
  t.term.error(new TakoError("HOST_NOT_RUNNING", "no host under /x", { hint: "Start it." }));
  const body = JSON.parse(t.out());
  assert.deepEqual(body.error, {
    reason: "HOST_NOT_RUNNING",
    message: "no host under /x",
    hint: "Start it.",
    metadata: {},
  });
  assert.equal(t.err(), "Error: no host under /x\n  → Start it.\n");
});

test("every error ends with what to do next, even an unexpected one", () => {
  const t = capture({});
  t.term.error(new Error("boom"));
  assert.match(t.err(), /^Error: boom\n {2}→ .+\n$/);
});

test("progress is plain lines without a TTY or with --ci, and never repeats a line", () => {
  for (const mode of [{ tty: false }, { tty: true, ci: true }]) {
    const t = capture(mode);
    const p = t.term.progress("step 1");
    p.update("step 1");
    p.update("step 2");
    p.done("finished");
    assert.equal(t.err(), "step 1\nstep 2\nfinished\n");
  }
});

test("progress.log prints a permanent line: above the spinner on a TTY, as a plain line otherwise", () => {
  const plain = capture({});
  const p = plain.term.progress("deploying");
  p.log("  web-1: ✓ upload (5 ms)");
  p.done("deployed");
  assert.equal(plain.err(), "deploying\n  web-1: ✓ upload (5 ms)\ndeployed\n");

  const tty = capture({ tty: true });
  const q = tty.term.progress("deploying");
  q.log("  web-1: ✓ upload (5 ms)");
  q.done("deployed");
  const out = tty.err();
  assert.ok(
    out.includes("\r\x1b[2K  web-1: ✓ upload (5 ms)\n"),
    "clears the spinner line, prints, then redraws",
  );
  assert.ok(out.endsWith("\r\x1b[2K✓ deployed\n"));
  assert.equal(capture({ json: true }).term.progress("x").log("y"), undefined);
});
