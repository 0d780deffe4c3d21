// The build on real files and a real git: what is copied (.gitignore at every level, never .git,
// .tako, node_modules or .env*), the version (commit, dirty tree, no git), the build command and
// assets, app.json, and the registry's tako.sh removed from what the host installs.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, test } from "node:test";
import { promisify } from "node:util";
import { extractArtifact } from "@tako/artifact";
import { TakoError } from "@tako/errors";
import { buildApp } from "../src/build/build-app.js";
import { parseAppConfig } from "../src/config/app-config.js";

const run = promisify(execFile);
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "tako-build-"));
  dirs.push(d);
  return d;
}

async function files(root: string, entries: Record<string, string>): Promise<void> {
  for (const [path, body] of Object.entries(entries)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), body);
  }
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd });
  return stdout.trim();
}

async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = `${prefix}${e.name}`;
    if (e.isDirectory()) out.push(...(await listTree(join(dir, e.name), `${rel}/`)));
    else out.push(rel);
  }
  return out.sort();
}

const config = (appDir: string, toml: string) => parseAppConfig(join(appDir, "tako.toml"), toml);

test("the copy respects .gitignore files and never takes .git, .tako, node_modules or .env*", async () => {
  const repo = await tempDir();
  const app = join(repo, "apps/shop");
  await files(repo, {
    ".gitignore": "*.log\n/apps/shop/generated/\n",
    "apps/shop/tako.toml": 'name = "shop"\nmain = "server.js"\n',
    "apps/shop/server.js": "export default {}",
    "apps/shop/.gitignore": "secret-notes.txt\nlib/*.tmp\n!lib/keep.tmp\n",
    "apps/shop/lib/a.tmp": "x",
    "apps/shop/lib/keep.tmp": "kept",
    "apps/shop/lib/sub/.gitignore": "local.js\n",
    "apps/shop/lib/sub/local.js": "x",
    "apps/shop/lib/sub/shared.js": "x",
    "apps/shop/secret-notes.txt": "x",
    "apps/shop/debug.log": "x",
    "apps/shop/generated/out.js": "x",
    "apps/shop/.env": "SECRET=1",
    "apps/shop/.env.production": "SECRET=2",
    "apps/shop/node_modules/dep/index.js": "x",
    "apps/shop/.tako/keys/production": "key",
    "apps/shop/public/logo.svg": "<svg/>",
  });
  await git(repo, "init", "-q");
  await git(repo, "add", "-A");
  await git(repo, "commit", "-qm", "first");
  const built = await buildApp(config(app, 'name = "shop"\nmain = "server.js"\n'), { env: "production" });
  const tree = await listTree(built.buildDir);
  assert.deepEqual(tree, [
    ".gitignore",
    "app.json",
    "lib/keep.tmp",
    "lib/sub/.gitignore",
    "lib/sub/shared.js",
    "public/logo.svg",
    "server.js",
    "tako.toml",
  ]);
  // The artifact holds exactly the build, and extracts with the host's strict extractor.
  const out = join(await tempDir(), "release");
  await extractArtifact(built.artifactPath, out);
  assert.deepEqual(await listTree(out), tree);
});

test("versions: commit when clean, commit plus content hash when dirty, content hash without git", async () => {
  const app = await tempDir();
  await files(app, { "server.js": "export default {}", "tako.toml": 'name = "v"\n' });
  const toml = 'name = "v"\nmain = "server.js"\n';
  const nogit = await buildApp(config(app, toml), { env: "production" });
  assert.match(nogit.version, /^nogit_[0-9a-f]{8}$/);
  assert.equal(nogit.source.git, undefined);
  const again = await buildApp(config(app, toml), { env: "production" });
  assert.equal(again.version, nogit.version, "same source, same version");
  assert.notEqual(again.sha256, nogit.sha256, "app.json records when it was built");

  await git(app, "init", "-q");
  await git(app, "add", "-A");
  await git(app, "commit", "-qm", "Add the server");
  const commit = await git(app, "rev-parse", "--short=12", "HEAD");
  const clean = await buildApp(config(app, toml), { env: "production" });
  assert.equal(clean.version, commit);
  const manifest = JSON.parse(await readFile(join(clean.buildDir, "app.json"), "utf8"));
  assert.equal(manifest.commit_message, "Add the server");
  assert.equal(manifest.git_dirty, false);
  assert.equal(manifest.main, "server.js");
  assert.equal(manifest.runtime, "node");
  assert.equal(manifest.version, commit);

  await writeFile(join(app, "server.js"), "export default { changed: true }");
  const dirty = await buildApp(config(app, toml), { env: "production" });
  assert.match(dirty.version, new RegExp(`^${commit}_[0-9a-f]{8}$`));
  assert.notEqual(dirty.version.split("_")[1], nogit.version.split("_")[1], "the hash follows the content");
  assert.equal(JSON.parse(await readFile(join(dirty.buildDir, "app.json"), "utf8")).git_dirty, true);
});

test("the build command runs in .tako/build with the app's node_modules, and assets merge into public/", async () => {
  const app = await tempDir();
  await files(app, {
    "src/server.js": "export default {}",
    "public/robots.txt": "User-agent: *",
    "node_modules/tool/index.js": "export const greet = () => 'built by tool';",
  });
  const toml = `name = "b"
main = "dist/server.js"
[build]
command = "mkdir -p dist/client && cp src/server.js dist/ && node -e \\"import('tool').then(m => require('fs').writeFileSync('dist/client/app.js', m.greet()))\\" && echo built for $ENV"
assets = ["dist/client"]
`;
  let output = "";
  const built = await buildApp(config(app, toml), { env: "staging", onOutput: (t) => (output += t) });
  assert.match(output, /built for staging/);
  assert.equal(await readFile(join(built.buildDir, "public/app.js"), "utf8"), "built by tool");
  assert.equal(await readFile(join(built.buildDir, "public/robots.txt"), "utf8"), "User-agent: *");
  assert.ok(
    !existsSync(join(built.buildDir, "node_modules")),
    "the linked node_modules is gone before packing",
  );
  assert.ok(existsSync(join(app, "node_modules/tool/index.js")), "and the app's own is untouched");
  assert.deepEqual(Object.keys(built.durationsMs).sort(), ["assets", "build", "copy", "pack"]);

  const failing = `name = "b"\nmain = "x.js"\n[build]\ncommand = "echo about to fail >&2; exit 7"\n`;
  await assert.rejects(buildApp(config(app, failing), { env: "production" }), (err: unknown) => {
    assert.ok(TakoError.is(err, "BUILD_FAILED"));
    assert.match(
      err.message,
      /the build command `echo about to fail >&2; exit 7` failed \(exit code 7\):\nabout to fail/,
    );
    return true;
  });
  await assert.rejects(
    buildApp(config(app, `name = "b"\nmain = "missing.js"\n`), { env: "production" }),
    /main in .*tako.toml is "missing.js", but the build has no such file/,
  );
  await assert.rejects(
    buildApp(config(app, `name = "b"\nmain = "src/server.js"\n[build]\nassets = ["nope"]\n`), {
      env: "production",
    }),
    /the asset directory nope does not exist after the build/,
  );
});

test("the registry's tako.sh is removed from package.json and package-lock.json in the artifact", async () => {
  const app = await tempDir();
  const pkg = {
    name: "sdk-user",
    version: "1.0.0",
    main: "server.js",
    dependencies: { "tako.sh": "^1.0.0", kleur: "^4.1.5" },
  };
  const lock = {
    name: "sdk-user",
    lockfileVersion: 3,
    requires: true,
    packages: {
      "": { name: "sdk-user", version: "1.0.0", dependencies: pkg.dependencies },
      "node_modules/tako.sh": {
        version: "1.0.0",
        resolved: "https://registry.npmjs.org/tako.sh/-/tako.sh-1.0.0.tgz",
      },
      "node_modules/kleur": {
        version: "4.1.5",
        resolved: "https://registry.npmjs.org/kleur/-/kleur-4.1.5.tgz",
      },
    },
  };
  await files(app, {
    "server.js": 'import { defineChannel } from "tako.sh"; export default {}',
    "package.json": JSON.stringify(pkg),
    "package-lock.json": JSON.stringify(lock),
  });
  const built = await buildApp(config(app, 'name = "sdk-user"\n'), { env: "production" });
  assert.equal(built.strippedSdk, true);
  assert.equal(built.main, "server.js", "main from package.json");
  const out = join(await tempDir(), "release");
  await extractArtifact(built.artifactPath, out);
  const shippedPkg = JSON.parse(await readFile(join(out, "package.json"), "utf8"));
  const shippedLock = JSON.parse(await readFile(join(out, "package-lock.json"), "utf8"));
  assert.deepEqual(shippedPkg.dependencies, { kleur: "^4.1.5" });
  assert.deepEqual(Object.keys(shippedLock.packages).sort(), ["", "node_modules/kleur"]);
  assert.deepEqual(shippedLock.packages[""].dependencies, { kleur: "^4.1.5" });
  assert.ok(!(await readFile(built.artifactPath)).includes("tako.sh-1.0.0.tgz"));
  // The app's own files are untouched.
  assert.equal(
    JSON.parse(await readFile(join(app, "package.json"), "utf8")).dependencies["tako.sh"],
    "^1.0.0",
  );
});
