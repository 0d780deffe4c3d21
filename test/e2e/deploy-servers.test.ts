// A deploy to two servers (two real local hosts behind the harness sshd): the release command
// runs once, on the leader (the env's first server), with the secrets as env vars; a failing
// release command on the leader aborts the follower, which keeps its previous state; every
// server gets its own result.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  makeTempRoot,
  startTestHost,
  startTestSshd,
  type TempRoot,
  type TestHost,
  type TestSshd,
} from "@tako/testkit";
import { type CliUser, makeCliUser } from "../helpers/cli-env.js";

let leader: TestHost;
let follower: TestHost;
let sshd: TestSshd;
let user: CliUser;
let work: TempRoot;

before(async () => {
  [leader, follower, sshd] = await Promise.all([startTestHost(), startTestHost(), startTestSshd()]);
  user = await makeCliUser(sshd);
  work = await makeTempRoot("multi");
  for (const [name, host] of [
    ["lead", leader],
    ["follow", follower],
  ] as const) {
    const r = await user.tako([
      "servers",
      "add",
      name,
      sshd.target,
      "--port",
      String(sshd.port),
      "--root",
      host.root,
    ]);
    assert.equal(r.code, 0, r.stderr);
  }
});
after(async () => {
  await user?.cleanup();
  await work?.cleanup();
  await sshd?.stop();
  await Promise.all([leader?.stop(), follower?.stop()]);
});

async function appWith(name: string, release: string): Promise<string> {
  const dir = join(work.root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, "tako.toml"),
    `name = "${name}"\nmain = "server.js"\nrelease = ${JSON.stringify(release)}\n\n[envs.production]\nroute = "${name}.tako.test"\nservers = ["lead", "follow"]\n`,
  );
  await writeFile(join(dir, "server.js"), `export default { fetch: () => new Response("${name}") };\n`);
  return dir;
}

const dataDir = (host: TestHost, app: string) => join(host.paths.appDir(app, "production"), "data/app");

test("the release command runs once, on the leader, with the secrets in its environment", async () => {
  const app = await appWith("migrate", 'echo "$TAKO_BUILD $DB_PASSWORD" >> "$TAKO_DATA_DIR/migrations.log"');
  const set = await user.tako(["secrets", "set", "DB_PASSWORD"], { cwd: app, input: "hunter2" });
  assert.equal(set.code, 0, set.stderr);
  const r = await user.tako(["deploy", "--ci", "--json"], { cwd: app, timeoutMs: 300_000 });
  const out = JSON.parse(r.stdout);
  assert.deepEqual(
    out.servers.map((s: { server: string }) => s.server),
    ["lead", "follow"],
    "one result per server, in the env's order",
  );
  const log = await readFile(join(dataDir(leader, "migrate"), "migrations.log"), "utf8");
  assert.equal(log, `${out.version} hunter2\n`, "ran once on the leader, with the secret as an env var");
  assert.ok(!existsSync(join(dataDir(follower, "migrate"), "migrations.log")), "never on the follower");
  // Both servers got the release, whatever the rest of their host could do with it.
  for (const host of [leader, follower]) {
    const releases = await readdir(join(host.paths.appDir("migrate", "production"), "releases"));
    assert.ok(releases.includes(out.version), `${host.root} has ${out.version}`);
  }
});

test("a release command that fails on the leader aborts the follower, and each server says what happened", async () => {
  const app = await appWith("broken-migration", 'echo "migration 42 failed" >&2; exit 3');
  const r = await user.tako(["deploy", "--ci", "--json"], { cwd: app, timeoutMs: 300_000 });
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.ok, false);
  const [lead, follow] = out.servers;
  assert.equal(lead.server, "lead");
  assert.equal(lead.error.reason, "RELEASE_COMMAND_FAILED");
  assert.match(
    lead.error.message,
    /failed at step "release": the release command `.*` exited with code 3:\nmigration 42 failed/,
  );
  assert.equal(follow.server, "follow");
  assert.match(
    follow.error.message,
    /not rolled out: the leader lead failed, so this server keeps its previous release/,
  );
  const human = await user.tako(["deploy", "--ci"], { cwd: app, timeoutMs: 300_000 });
  assert.match(human.stderr, /✗ lead: .*exited with code 3/);
  assert.match(human.stderr, /✗ follow: not rolled out: the leader lead failed/);
  assert.match(human.stderr, /Error: 2 of 2 servers failed \(see above\)/);
  // Neither host moved `current` or recorded the app as deployed.
  for (const host of [leader, follower]) {
    assert.ok(!existsSync(join(host.paths.appDir("broken-migration", "production"), "current")), host.root);
  }
});
