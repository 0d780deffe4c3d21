import assert from "node:assert/strict";
import { test } from "node:test";
import { BootstrapError, parseBootstrap } from "./bootstrap.js";

const token = "abcdefghijklmnop_-12";

test("a well-formed envelope is read, with frozen secrets and storages", () => {
  const boot = parseBootstrap(
    JSON.stringify({
      token,
      instance_id: "i1",
      version: "v1",
      secrets: { A: "1" },
      storages: { media: { bucket: "b" } },
    }),
  );
  assert.deepEqual(boot.secrets, { A: "1" });
  assert.deepEqual(boot.storages, { media: { bucket: "b" } });
  assert.ok(Object.isFrozen(boot.secrets));
  assert.ok(Object.isFrozen(boot.storages.media));
});

test("secrets and storages may be absent", () => {
  const boot = parseBootstrap(JSON.stringify({ token, instance_id: "i1", version: "v1" }));
  assert.deepEqual(boot.secrets, {});
  assert.deepEqual(boot.storages, {});
});

test("malformed envelopes are refused with what is wrong", () => {
  const cases: [unknown, RegExp][] = [
    ["not json", /not JSON/],
    [[1, 2], /must be a JSON object/],
    [{ instance_id: "i", version: "v" }, /"token" must be/],
    [{ token: "short", instance_id: "i", version: "v" }, /"token" must be/],
    [{ token: "has spaces in it!!!!", instance_id: "i", version: "v" }, /"token" must be/],
    [{ token, version: "v" }, /"instance_id" must be a string/],
    [{ token, instance_id: "i", version: "v", secrets: { A: 1 } }, /"secrets\.A" must be a string/],
    [{ token, instance_id: "i", version: "v", secrets: [] }, /"secrets" must be an object/],
    [
      { token, instance_id: "i", version: "v", storages: { s: { k: false } } },
      /"storages\.s\.k" must be a string/,
    ],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => parseBootstrap(typeof input === "string" ? input : JSON.stringify(input)),
      (err: unknown) => err instanceof BootstrapError && message.test(err.message),
      String(message),
    );
  }
});
