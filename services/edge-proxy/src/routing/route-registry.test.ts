import assert from "node:assert/strict";
import { test } from "node:test";
import { TakoError } from "@tako/errors";
import type { StoredRoutes } from "../store/route-store.js";
import { DeploymentDirectory } from "../upstream/deployment-directory.js";
import { RouteRegistry } from "./route-registry.js";

function registry(failSave = false) {
  const saved: StoredRoutes[][] = [];
  const r = new RouteRegistry({
    directory: new DeploymentDirectory(),
    save: async (d) => {
      if (failSave) throw new Error("disk full");
      saved.push([...d]);
    },
    onChange: () => undefined,
  });
  return { r, saved };
}

test("routes are saved before they take effect; a failed save changes nothing", async () => {
  const ok = registry();
  await ok.r.setRoutes("web", "production", ["a.test", "A.test", " ", "a.test/x/*"]);
  assert.deepEqual(ok.saved.at(-1), [{ app: "web", env: "production", routes: ["a.test", "a.test/x/*"] }]);
  assert.equal(ok.r.table.match("a.test", "/")?.target.key, "web/production");

  const failing = registry(true);
  await assert.rejects(failing.r.setRoutes("web", "production", ["a.test"]), /disk full/);
  assert.equal(failing.r.table.match("a.test", "/"), undefined);
});

test("a pattern of another deployment is a conflict; the owner may change its own", async () => {
  const { r } = registry();
  await r.setRoutes("web", "production", ["a.test"]);
  await assert.rejects(r.setRoutes("api", "production", ["a.test"]), (e: unknown) =>
    TakoError.is(e, "ROUTE_CONFLICT"),
  );
  await r.setRoutes("web", "production", ["a.test", "b.test"]);
  await r.setRoutes("api", "production", ["a.test/api/*"]);
  assert.equal(r.table.match("a.test", "/api/x")?.target.key, "api/production");
});

test("an update keeps a deployment's registration order; removing reports whether it existed", async () => {
  const { r } = registry();
  await r.setRoutes("one", "production", ["*.x.test/p*"]);
  await r.setRoutes("two", "production", ["*.x.test/q*"]);
  await r.setRoutes("one", "production", ["*.x.test/p*", "one.test"]);
  assert.deepEqual(
    r.snapshot().map((d) => d.app),
    ["one", "two"],
  );
  assert.equal(await r.removeRoutes("one", "production"), true);
  assert.equal(await r.removeRoutes("one", "production"), false);
  await assert.rejects(r.removeRoutes("One", "production"), (e: unknown) =>
    TakoError.is(e, "INVALID_ARGUMENT"),
  );
});
