import assert from "node:assert/strict";
import { test } from "node:test";
import { LineSplitter, MAX_LINE_BYTES } from "./line-splitter.js";

test("lines are split at newlines, across chunks, without empty lines or \\r", () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push(Buffer.from("one\ntw")), ["one"]);
  assert.deepEqual(s.push(Buffer.from("o\r\n\n\nthree")), ["two"]);
  assert.deepEqual(s.flush(), ["three"]);
  assert.deepEqual(s.flush(), []);
});

test("a line longer than 64 KiB is emitted in 64 KiB pieces", () => {
  const s = new LineSplitter();
  const lines = s.push(Buffer.from(`${"a".repeat(MAX_LINE_BYTES * 2 + 10)}\nnext\n`));
  assert.deepEqual(
    lines.map((l) => l.length),
    [MAX_LINE_BYTES, MAX_LINE_BYTES, 10, 4],
  );
});

test("multi-byte characters split across chunks stay intact", () => {
  const s = new LineSplitter();
  const bytes = Buffer.from("héllo wörld\n");
  assert.deepEqual([...s.push(bytes.subarray(0, 2)), ...s.push(bytes.subarray(2))], ["héllo wörld"]);
});
