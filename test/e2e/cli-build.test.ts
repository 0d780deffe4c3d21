// `tako deploy --dry-run` builds through the real CLI. The app imports our SDK as "tako.sh",
// a name that on the npm registry belongs to another project: a production install of the
// artifact, against a local registry that records every request, must never ask for it (while
// the same install of the app's own files does, which shows the check can fail).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { extractArtifact } from "@tako/artifact";
import { makeTempRoot, type TempRoot } from "@tako/testkit";
import { type CliUser, makeCliUser } from "../helpers/cli-env.js";
import { type FakeRegistry, startFakeRegistry } from "../helpers/fake-registry.js";

const run = promisify(execFile);
const TINY = { name: "tiny-dep", version: "1.0.0" };
const SDK = { name: "tako.sh", version: "1.0.0" };

let registry: FakeRegistry;
let user: CliUser;
let work: TempRoot;
before(async () => {
  registry = await startFakeRegistry([TINY, SDK]);
  user = await makeCliUser(undefined);
  work = await makeTempRoot("build");
  await mkdir(user.takoHome, { recursive: true });
  await writeFile(join(user.takoHome, "config.toml"), '[servers.web-1]\nhost = "192.0.2.1"\n');
});
after(async () => {
  await registry.close();
  await user.cleanup();
  await work.cleanup();
});

async function npmCi(dir: string, cache: string): Promise<void> {
  await run(
    "npm",
    [
      "ci",
      "--omit=dev",
      "--no-audit",
      "--no-fund",
      `--registry=${registry.url}`,
      `--cache=${cache}`,
      "--prefer-online",
    ],
    { cwd: dir, env: { ...process.env, npm_config_update_notifier: "false" } },
  );
}

test("a production install of the artifact never asks the registry for tako.sh", async () => {
  const app = join(work.root, "sdk-app");
  const dependencies = { "tako.sh": SDK.version, "tiny-dep": TINY.version };
  const lockEntry = (p: typeof TINY) => ({
    version: p.version,
    resolved: registry.tarballUrl(p),
    integrity: registry.integrity(p),
  });
  await mkdir(app, { recursive: true });
  await writeFile(
    join(app, "package.json"),
    JSON.stringify({ name: "sdk-app", version: "1.0.0", type: "module", dependencies }),
  );
  await writeFile(
    join(app, "package-lock.json"),
    JSON.stringify({
      name: "sdk-app",
      version: "1.0.0",
      lockfileVersion: 3,
      requires: true,
      packages: {
        "": { name: "sdk-app", version: "1.0.0", dependencies },
        "node_modules/tako.sh": lockEntry(SDK),
        "node_modules/tiny-dep": lockEntry(TINY),
      },
    }),
  );
  await writeFile(
    join(app, "server.js"),
    'import { defineChannel } from "tako.sh";\nexport default { fetch: () => new Response("ok") };\n',
  );
  await writeFile(
    join(app, "tako.toml"),
    'name = "sdk-app"\nmain = "server.js"\n[envs.production]\nroute = "sdk.example.com"\nservers = ["web-1"]\n',
  );

  // Control: installing the app's own files does fetch the registry's tako.sh.
  const control = join(work.root, "control");
  await cp(app, control, { recursive: true });
  await npmCi(control, join(work.root, "cache-control"));
  assert.ok(
    registry.requests.some((r) => r.includes("tako.sh")),
    `the control install asked for tako.sh: ${registry.requests}`,
  );

  const r = await user.tako(["deploy", "--dry-run", "--json", "--ci"], { cwd: app });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.dryRun, true);
  assert.deepEqual(out.servers, ["web-1"]);
  assert.match(out.version, /^nogit_[0-9a-f]{8}$/);

  const release = join(work.root, "release");
  await extractArtifact(out.artifact.path, release);
  const shipped = JSON.parse(await readFile(join(release, "package.json"), "utf8"));
  assert.deepEqual(shipped.dependencies, { "tiny-dep": "1.0.0" });
  const appJson = JSON.parse(await readFile(join(release, "app.json"), "utf8"));
  assert.equal(appJson.main, "server.js");
  assert.equal(appJson.name, "sdk-app");

  registry.requests.length = 0;
  await npmCi(release, join(work.root, "cache-release"));
  assert.ok(
    registry.requests.some((r) => r.includes("tiny-dep")),
    "the install did use the registry",
  );
  assert.deepEqual(
    registry.requests.filter((r) => r.includes("tako.sh")),
    [],
    "no request for tako.sh",
  );
  assert.equal(
    await readFile(join(release, "node_modules/tiny-dep/index.js"), "utf8"),
    'module.exports = "tiny-dep";\n',
  );
});
