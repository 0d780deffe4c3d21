// The deploy engine up to the rollout barrier, through the real Deploy stream on tako.sock:
// lock, upload, extract, install, and everything a malformed or hostile request must not do.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { encodeRawArchive, packArtifact } from "@tako/artifact";
import { TakoError } from "@tako/errors";
import { AgentService, type DeployRequestSchema, type DeployResponse } from "@tako/proto";
import { AsyncQueue, createRpcChannel, createRpcClient, type RpcChannel } from "@tako/rpc";
import { makeTempRoot, startTestHost, type TempRoot, type TestHost } from "@tako/testkit";

type Req = MessageInitShape<typeof DeployRequestSchema>;

let host: TestHost;
let scratch: TempRoot;
let channel: RpcChannel;
let agent: ReturnType<typeof createRpcClient<typeof AgentService>>;

before(async () => {
  host = await startTestHost();
  scratch = await makeTempRoot("art");
  channel = createRpcChannel(host.socket("agentd"), { timeoutMs: 60_000 });
  agent = createRpcClient(AgentService, channel);
});
after(async () => {
  channel?.close();
  await host?.stop();
  await scratch?.cleanup();
});

let n = 0;
async function appArtifact(files: Record<string, string>): Promise<Buffer> {
  const dir = join(scratch.root, `app-${++n}`);
  for (const [path, content] of Object.entries({
    "app.json": JSON.stringify({ name: "web", main: "index.mjs" }),
    "index.mjs": "export default () => new Response('hi')",
    ...files,
  })) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  const file = join(scratch.root, `app-${n}.tgz`);
  await packArtifact(dir, file);
  return readFile(file);
}

interface Session {
  readonly events: DeployResponse[];
  /** Resolves once the host reports `prepared` (or the stream ends). */
  readonly prepared: Promise<void>;
  readonly finished: Promise<unknown>;
  readonly send: AsyncQueue<Req>;
}

/** Opens a deploy, uploads when asked, and stops at the barrier unless `proceed`. */
function openDeploy(
  start: Record<string, unknown>,
  artifact: Buffer,
  options: { sha256?: string } = {},
): Session {
  const send = new AsyncQueue<Req>();
  const sha256 = options.sha256 ?? createHash("sha256").update(artifact).digest("hex");
  send.push({
    msg: {
      case: "start",
      value: {
        app: "web",
        env: "production",
        version: "v1",
        routes: ["web.localhost"],
        ...start,
        artifactSha256: sha256,
        artifactSizeBytes: BigInt(artifact.length),
      },
    },
  });
  const events: DeployResponse[] = [];
  let onPrepared: () => void = () => undefined;
  const prepared = new Promise<void>((resolve) => {
    onPrepared = resolve;
  });
  const finished = (async () => {
    try {
      for await (const ev of agent.deploy(send)) {
        events.push(ev);
        if (ev.msg.case === "accepted" && ev.msg.value.uploadRequired) {
          for (let i = 0; i < artifact.length; i += 64 * 1024)
            send.push({ msg: { case: "chunk", value: artifact.subarray(i, i + 64 * 1024) } });
        }
        if (ev.msg.case === "prepared") onPrepared();
      }
      return undefined;
    } catch (err) {
      return err;
    } finally {
      onPrepared();
    }
  })();
  return { events, prepared, finished, send };
}

const releasesOf = (app: string) =>
  readdir(join(host.paths.appDir(app, "production"), "releases")).catch(() => [] as string[]);

function assertFailed(err: unknown, reason: string, message: RegExp, step?: string): void {
  assert.ok(TakoError.is(err), `expected a TakoError, got ${String(err)}`);
  assert.equal(err.reason, reason, err.message);
  assert.match(err.message, message);
  if (step) assert.equal(err.metadata.step, step);
}

describe("deploy, up to the rollout", () => {
  test("a release is uploaded, extracted and installed, and the host waits at the barrier", async () => {
    const s = openDeploy({ app: "barrier", version: "b1" }, await appArtifact({ "public/a.txt": "A" }));
    await s.prepared;
    const steps = s.events
      .filter((e) => e.msg.case === "step" && e.msg.value.finished)
      .map((e) => (e.msg.value as { name: string }).name);
    assert.deepEqual(steps, ["upload", "extract", "install"]);
    const release = join(host.paths.appDir("barrier", "production"), "releases/b1");
    assert.equal(await readFile(join(release, "public/a.txt"), "utf8"), "A");
    // The host's own SDK is linked in: the registry's tako.sh is never installed.
    assert.equal(
      JSON.parse(await readFile(join(release, "node_modules/tako.sh/package.json"), "utf8")).name,
      "tako.sh",
    );
    s.send.end(); // no proceed: the host cancels and releases the lock
    assertFailed(await s.finished, "CANCELED", /cancelled before the rollout/);

    // The kept release is not uploaded again.
    const again = openDeploy({ app: "barrier", version: "b1" }, Buffer.from("unused"));
    await again.prepared;
    const accepted = again.events[0]?.msg;
    assert.deepEqual(
      accepted?.case === "accepted" ? { uploadRequired: accepted.value.uploadRequired } : accepted,
      {
        uploadRequired: false,
      },
    );
    again.send.end();
    await again.finished;
  });

  test("a second deploy of the same app and env fails at once with the retry message", async () => {
    const first = openDeploy({ app: "locked", version: "l1" }, await appArtifact({}));
    await first.prepared;
    const started = Date.now();
    const second = openDeploy({ app: "locked", version: "l2" }, await appArtifact({}));
    assertFailed(
      await second.finished,
      "DEPLOY_LOCKED",
      /a deploy of locked\/production is already in progress on this server .*Please wait for it to finish and try again\./,
    );
    assert.ok(Date.now() - started < 5000, "refused at once, not after a wait");
    assert.deepEqual(second.events, [], "nothing was accepted");
    // Another app is not blocked.
    const other = openDeploy({ app: "unlocked", version: "u1" }, await appArtifact({}));
    await other.prepared;
    other.send.end();
    await other.finished;
    first.send.end();
    await first.finished;
    assert.deepEqual(await releasesOf("locked"), ["l1"]);
  });

  for (const [name, entries, message] of [
    [
      "a ../ entry",
      [
        { header: { path: "app.json" }, body: "{}" },
        { header: { path: "../../../../evil.txt" }, body: "x" },
      ],
      /entry "..\/..\/..\/..\/evil.txt" contains a '..' segment/,
    ],
    ["an absolute path", [{ header: { path: "/tmp/tk-evil-abs.txt" }, body: "x" }], /is an absolute path/],
    [
      "an escaping symlink",
      [{ header: { path: "data", typeFlag: "2", linkTarget: "../../../../../etc" } }],
      /symbolic link data points outside the release/,
    ],
  ] as const) {
    test(`an artifact with ${name} is rejected with nothing written`, async () => {
      const app = `hostile${++n}`;
      const s = openDeploy({ app, version: "h1" }, encodeRawArchive(entries));
      assertFailed(await s.finished, "ARTIFACT_REJECTED", message, "extract");
      assert.deepEqual(await releasesOf(app), []);
      assert.deepEqual(
        await readdir(join(host.paths.appDir(app, "production"), ".uploads")),
        [],
        "the upload was removed",
      );
      assert.deepEqual(
        (await readdir(host.paths.appsDir)).filter((d) => d.includes("evil")),
        [],
      );
    });
  }

  test("an artifact whose bytes do not match the announced SHA-256 is refused at upload", async () => {
    const s = openDeploy({ app: "corrupt", version: "c1" }, await appArtifact({}), {
      sha256: "0".repeat(64),
    });
    assertFailed(
      await s.finished,
      "ARTIFACT_REJECTED",
      /SHA-256 is [0-9a-f]{64}, not the 0{64} announced/,
      "upload",
    );
    assert.deepEqual(await releasesOf("corrupt"), []);
  });

  test("a malformed start changes nothing", async () => {
    for (const [start, message] of [
      [{ app: "Bad_Name" }, /app name "Bad_Name" is invalid/],
      [{ app: "ok", env: "../x" }, /env name "..\/x" is invalid/],
      [{ app: "ok", version: "../v" }, /release version "..\/v" is invalid/],
      [{ app: "ok", routes: ["/no-host"] }, /route "\/no-host" is invalid/],
      [{ app: "ok", vars: { PORT: "1" } }, /PORT is set by Tako/],
    ] as const) {
      const s = openDeploy(start, await appArtifact({}));
      assertFailed(await s.finished, "INVALID_ARGUMENT", message);
      assert.deepEqual(s.events, []);
    }
    assert.deepEqual(
      (await readdir(host.paths.appsDir)).filter((d) => d === "ok" || d.startsWith("Bad")),
      [],
    );
  });

  test("an artifact that would make npm fetch the registry's tako.sh is refused before npm runs", async () => {
    const pkg = JSON.stringify({ name: "web", dependencies: { "tako.sh": "^1.0.0" } });
    const s = openDeploy({ app: "registry", version: "r1" }, await appArtifact({ "package.json": pkg }));
    assertFailed(
      await s.finished,
      "ARTIFACT_REJECTED",
      /depends on "tako.sh", which npm would fetch from the registry/,
      "install",
    );
    assert.deepEqual(await releasesOf("registry"), [], "the half-installed release was removed");
  });

  test("an artifact without app.json, or whose main is missing, is refused", async () => {
    const file = join(scratch.root, "no-manifest");
    await mkdir(file);
    await writeFile(join(file, "index.mjs"), "");
    await packArtifact(file, `${file}.tgz`);
    const s = openDeploy({ app: "nomanifest", version: "m1" }, await readFile(`${file}.tgz`));
    assertFailed(await s.finished, "ARTIFACT_REJECTED", /no readable app.json/);
    const t = openDeploy(
      { app: "nomain", version: "m1" },
      await appArtifact({ "app.json": JSON.stringify({ main: "missing.js" }) }),
    );
    assertFailed(await t.finished, "ARTIFACT_REJECTED", /main "missing.js" is not a file inside the release/);
  });
});
