import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { TakoError } from "@tako/errors";
import { encodeRawArchive, extractArtifact, packArtifact } from "../src/index.js";

let work: string;
before(async () => {
  work = await mkdtemp("/tmp/tk-artifact-");
});
after(() => rm(work, { recursive: true, force: true }));

async function makeTree(dir: string): Promise<void> {
  await mkdir(join(dir, "src/deep"), { recursive: true });
  await mkdir(join(dir, "public/assets"), { recursive: true });
  await mkdir(join(dir, "empty"));
  await writeFile(join(dir, "package.json"), '{"name":"app"}\n');
  await writeFile(join(dir, "src/index.ts"), "export default () => new Response('hi');\n");
  await writeFile(join(dir, "src/deep/run.sh"), "#!/bin/sh\necho hi\n");
  await chmod(join(dir, "src/deep/run.sh"), 0o755);
  await writeFile(join(dir, "public/assets/app.js"), Buffer.alloc(70_000, 7));
  await writeFile(join(dir, "public/héllo wörld.txt"), "unicode\n");
  const long = `public/${"d".repeat(90)}/${"e".repeat(90)}/${"f".repeat(120)}.txt`;
  await mkdir(join(dir, long, ".."), { recursive: true });
  await writeFile(join(dir, long), "long path\n");
  await symlink("../src/index.ts", join(dir, "public/link-to-index.ts"));
}

describe("pack and extract", () => {
  test("a tree round-trips: contents, executable bit, symlinks, long and unicode names, empty dirs", async () => {
    const src = join(work, "rt-src");
    await makeTree(src);
    const file = join(work, "rt.tgz");
    const packed = await packArtifact(src, file);
    assert.equal(packed.files, 6);
    assert.equal(packed.sizeBytes, (await stat(file)).size);
    assert.equal(
      packed.sha256,
      createHash("sha256")
        .update(await readFile(file))
        .digest("hex"),
    );

    const dest = join(work, "rt-dest");
    const result = await extractArtifact(file, dest);
    assert.deepEqual(result, { files: 6, directories: 7, symlinks: 1, bytes: await sumSizes(src) });
    for (const rel of ["package.json", "src/index.ts", "public/assets/app.js", "public/héllo wörld.txt"]) {
      assert.deepEqual(await readFile(join(dest, rel)), await readFile(join(src, rel)), rel);
    }
    assert.equal((await stat(join(dest, "src/deep/run.sh"))).mode & 0o777, 0o755);
    assert.equal((await stat(join(dest, "package.json"))).mode & 0o777, 0o644);
    assert.equal(await readlink(join(dest, "public/link-to-index.ts")), "../src/index.ts");
    assert.ok((await stat(join(dest, "empty"))).isDirectory());
    const long = (await readdir(join(dest, "public"), { recursive: true })).find(
      (p) => p.endsWith(".txt") && p.length > 200,
    );
    assert.ok(long, "the 300-byte path survived through a pax header");
  });

  test("the same tree always gives the same bytes", async () => {
    const src = join(work, "det-src");
    await makeTree(src);
    const a = await packArtifact(src, join(work, "det-a.tgz"));
    await new Promise((r) => setTimeout(r, 1100)); // mtimes on disk move on; the artifact must not
    await writeFile(join(src, "package.json"), '{"name":"app"}\n');
    const b = await packArtifact(src, join(work, "det-b.tgz"));
    assert.equal(a.sha256, b.sha256);
  });

  test("packing refuses a symlink that points outside the build", async () => {
    const src = join(work, "bad-src");
    await mkdir(src);
    await symlink("/etc/passwd", join(src, "passwd"));
    await assert.rejects(
      packArtifact(src, join(work, "bad.tgz")),
      (err: unknown) =>
        TakoError.is(err, "ARTIFACT_REJECTED") && /passwd points outside the build/.test(err.message),
    );
  });

  test("an existing release directory is never overwritten", async () => {
    const src = join(work, "exists-src");
    await mkdir(src);
    await writeFile(join(src, "a"), "a");
    const file = join(work, "exists.tgz");
    await packArtifact(src, file);
    const dest = join(work, "exists-dest");
    await mkdir(dest);
    await assert.rejects(extractArtifact(file, dest), (err: unknown) => TakoError.is(err, "ALREADY_EXISTS"));
    assert.deepEqual(await readdir(dest), []);
  });
});

// Hostile archives, written entry by entry with the low-level encoder.
const archive = encodeRawArchive;

async function expectRejected(
  name: string,
  bytes: Buffer,
  message: RegExp,
  outside: string[] = [],
): Promise<void> {
  const dir = join(work, `hostile-${name}`);
  await mkdir(dir);
  const file = join(dir, "artifact.tgz");
  await writeFile(file, bytes);
  const releases = join(dir, "releases");
  await mkdir(releases);
  const dest = join(releases, "v1");
  await assert.rejects(extractArtifact(file, dest), (err: unknown) => {
    assert.ok(TakoError.is(err, "ARTIFACT_REJECTED"), String(err));
    assert.match(err.message, message);
    return true;
  });
  assert.deepEqual(await readdir(releases), [], "nothing written: no release, no temporary directory");
  assert.deepEqual((await readdir(dir)).sort(), ["artifact.tgz", "releases"], "nothing written next to it");
  for (const path of outside) await assert.rejects(lstat(join(dir, path)), `${path} was not created`);
}

describe("hostile artifacts are rejected with nothing written", () => {
  test("a ../ entry", () =>
    expectRejected(
      "dotdot",
      archive([
        { header: { path: "ok.txt" }, body: "fine" },
        { header: { path: "../evil.txt" }, body: "x" },
      ]),
      /entry "..\/evil.txt" contains a '..' segment/,
      ["evil.txt"],
    ));

  test("a ../ hidden in a pax path", () =>
    expectRejected(
      "pax-dotdot",
      archive([{ header: { path: `a/${"x".repeat(120)}/../../../evil.txt` }, body: "x" }]),
      /contains a '..' segment/,
      ["evil.txt"],
    ));

  test("an absolute path", () =>
    expectRejected(
      "absolute",
      archive([{ header: { path: "/tmp/tk-absolute-evil.txt" }, body: "x" }]),
      /is an absolute path/,
    ));

  test("a symlink that escapes", () =>
    expectRejected(
      "symlink-out",
      archive([{ header: { path: "link", typeFlag: "2", linkTarget: "../../outside" } }]),
      /symbolic link link points outside the release/,
    ));

  test("an absolute symlink", () =>
    expectRejected(
      "symlink-abs",
      archive([{ header: { path: "etc", typeFlag: "2", linkTarget: "/etc" } }]),
      /points outside the release \(\/etc\)/,
    ));

  test("a chain of links that only escapes when resolved for real", () =>
    expectRejected(
      "symlink-chain",
      archive([
        { header: { path: "a/", typeFlag: "5", mode: 0o755 } },
        { header: { path: "a/b", typeFlag: "2", linkTarget: ".." } },
        { header: { path: "c", typeFlag: "2", linkTarget: "a/b/.." } },
      ]),
      /symbolic link c resolves outside the release/,
    ));

  test("a file written through a symlink", () =>
    expectRejected(
      "through-link",
      archive([
        { header: { path: "sub/", typeFlag: "5", mode: 0o755 } },
        { header: { path: "link", typeFlag: "2", linkTarget: "sub" } },
        { header: { path: "link/file" }, body: "x" },
      ]),
      /entry link\/file would be written through link, which is not a directory/,
    ));

  test("a hard link", () =>
    expectRejected(
      "hardlink",
      archive([{ header: { path: "h", typeFlag: "1", linkTarget: "/etc/passwd" } }]),
      /h is a hard link/,
    ));

  test("a device file", () =>
    expectRejected(
      "device",
      archive([{ header: { path: "dev", typeFlag: "3" } }]),
      /dev is a character device/,
    ));

  test("a duplicate entry", () =>
    expectRejected(
      "dup",
      archive([
        { header: { path: "a" }, body: "1" },
        { header: { path: "a" }, body: "2" },
      ]),
      /entry a appears twice/,
    ));

  test("a truncated archive", () =>
    expectRejected(
      "truncated",
      archive([{ header: { path: "big" }, body: Buffer.alloc(5000, 1) }], {
        end: false,
        truncateBytes: 3000,
      }),
      /truncated/,
    ));

  test("something that is not gzip", () =>
    expectRejected("not-gzip", Buffer.from("hello, not an archive"), /not a gzip-compressed tar/));

  test("a corrupt header", async () => {
    const good = archive([{ header: { path: "a" }, body: "1" }]);
    const tar = (await import("node:zlib")).gunzipSync(good);
    tar[10] = 0x41; // changes the name without fixing the checksum
    await expectRejected("checksum", gzipSync(tar), /checksum mismatch/);
  });

  test("an archive that unpacks past the size limit (decompression bomb)", async () => {
    const dir = join(work, "bomb");
    await mkdir(dir);
    const file = join(dir, "a.tgz");
    await writeFile(file, archive([{ header: { path: "zeros" }, body: Buffer.alloc(4 * 1024 * 1024) }]));
    assert.ok((await stat(file)).size < 20_000, "compresses to almost nothing");
    await assert.rejects(
      extractArtifact(file, join(dir, "v1"), {
        maxEntries: 10,
        maxTotalBytes: 1024 * 1024,
        maxFileBytes: 1024 * 1024,
      }),
      (err: unknown) =>
        TakoError.is(err, "ARTIFACT_REJECTED") && /larger than 1048576 bytes/.test(err.message),
    );
    assert.deepEqual(await readdir(dir), ["a.tgz"]);
  });
});

async function sumSizes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}
