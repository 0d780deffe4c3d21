// The contracts are checked where they are generated: `buf lint` must be clean and regenerating
// the TypeScript offline must reproduce exactly what is committed under src/gen.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const buf = join(repoRoot, "node_modules/.bin/buf");
const committed = join(repoRoot, "packages/proto/src/gen");

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

test("buf lint is clean", async () => {
  const { stdout, stderr } = await run(buf, ["lint"], { cwd: repoRoot });
  assert.equal(stdout + stderr, "");
});

test("regenerating the code from proto/ changes nothing that is committed", async () => {
  const out = await mkdtemp(join(tmpdir(), "tako-proto-"));
  try {
    // -o prefixes the plugin's out path, so the fresh copy lands in <out>/packages/proto/src/gen.
    // PATH carries node_modules/.bin so buf finds the local protoc-gen-es; nothing is downloaded.
    const env = { ...process.env, PATH: `${join(repoRoot, "node_modules/.bin")}:${process.env.PATH ?? ""}` };
    await run(buf, ["generate", "-o", out], { cwd: repoRoot, env });
    const fresh = join(out, "packages/proto/src/gen");
    const [freshFiles, committedFiles] = await Promise.all([listFiles(fresh), listFiles(committed)]);
    assert.deepEqual(committedFiles, freshFiles, "generated file set differs: run `npm run proto:generate`");
    for (const file of freshFiles) {
      const [a, b] = await Promise.all([
        readFile(join(committed, file), "utf8"),
        readFile(join(fresh, file), "utf8"),
      ]);
      assert.equal(a, b, `${file} is stale: run \`npm run proto:generate\` and commit the result`);
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
