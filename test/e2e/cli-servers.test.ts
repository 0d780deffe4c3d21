// `tako servers add|list|remove` through a real OpenSSH server in front of a real local host:
// the host key is checked against known_hosts (unknown and changed keys are refused with the
// fingerprint and the exact step), the login key is checked, and agentd must answer ServerInfo
// through the forwarded management socket before a server is saved.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import {
  freePort,
  makeTempRoot,
  startTestHost,
  startTestSshd,
  type TestHost,
  type TestSshd,
} from "@tako/testkit";
import { type CliUser, makeCliUser } from "../helpers/cli-env.js";

const run = promisify(execFile);
let host: TestHost;
let sshd: TestSshd;
let user: CliUser;

before(async () => {
  [host, sshd] = await Promise.all([startTestHost(), startTestSshd()]);
  user = await makeCliUser(sshd, { hashed: true });
});
after(async () => {
  await user?.cleanup();
  await sshd?.stop();
  await host?.stop();
});

const add = (u: CliUser, name: string, root: string, extra: string[] = []) =>
  u.tako([
    "servers",
    "add",
    name,
    sshd.target,
    "--port",
    String(sshd.port),
    "--root",
    root,
    "--ci",
    ...extra,
  ]);

test("servers add checks SSH and agentd, then saves the server; list and remove manage it", async () => {
  const r = await add(user, "local", host.root, ["--json"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.server.name, "local");
  assert.equal(out.info.rootDir, host.root, "ServerInfo came from the host behind sshd");
  const agentd = out.info.daemons.find((d: { name: string }) => d.name === "agentd");
  assert.equal(agentd?.pid, await host.pidOf("agentd"));
  const saved = await readFile(join(user.takoHome, "config.toml"), "utf8");
  assert.match(saved, /\[servers\.local\]/);
  assert.match(saved, new RegExp(`port = ${sshd.port}`));
  assert.match(saved, /user = "root"/);

  const list = await user.tako(["servers", "list", "--json"]);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(
    JSON.parse(list.stdout).servers.map((s: { name: string; root: string }) => [s.name, s.root]),
    [["local", host.root]],
  );
  const human = await user.tako(["servers", "ls"]);
  assert.match(human.stdout, new RegExp(`local\\s+root@127.0.0.1\\s+${sshd.port}\\s+${host.root}`));

  const taken = await add(user, "local", "/elsewhere");
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, /a server named "local" already exists/);

  const removed = await user.tako(["servers", "remove", "local"]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.doesNotMatch(await readFile(join(user.takoHome, "config.toml"), "utf8"), /local/);
  const again = await user.tako(["servers", "remove", "local"]);
  assert.equal(again.code, 1);
  assert.match(
    again.stderr,
    /no server named "local"[\s\S]*→ Add it with `tako servers add local <user@host>`/,
  );
});

test("an unknown host key is refused with its fingerprint and the exact line to trust it", async () => {
  const stranger = await makeCliUser(sshd, { knownHosts: false });
  try {
    const accepted = async () => ((await sshd.readLog()).match(/Accepted publickey/g) ?? []).length;
    const loginsBefore = await accepted();
    const r = await add(stranger, "local", host.root);
    assert.equal(r.code, 1);
    assert.equal(await accepted(), loginsBefore, "the CLI never logged in to an unverified host");
    assert.match(
      r.stderr,
      /the host key of \[127\.0\.0\.1\]:\d+ is not in ~\/\.ssh\/known_hosts; refusing to connect/,
    );
    assert.ok(r.stderr.includes(sshd.hostFingerprint), r.stderr);
    const line = `echo '${sshd.knownHostsLine()}' >> ~/.ssh/known_hosts`;
    assert.ok(r.stderr.includes(line), `the hint gives ${line}:\n${r.stderr}`);
    await assert.rejects(readFile(join(stranger.takoHome, "config.toml")), /ENOENT/, "nothing saved");

    // Following the hint is enough.
    await writeFile(join(stranger.home, ".ssh/known_hosts"), `${sshd.knownHostsLine()}\n`);
    const ok = await add(stranger, "local", host.root);
    assert.equal(ok.code, 0, ok.stderr);
  } finally {
    await stranger.cleanup();
  }
});

test("a changed host key is refused as a possible attack, naming both fingerprints", async () => {
  const victim = await makeCliUser(sshd, { knownHosts: false });
  try {
    const other = join(victim.home, "other_host_key");
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    const pub = (await readFile(`${other}.pub`, "utf8")).split(" ").slice(0, 2).join(" ");
    await writeFile(join(victim.home, ".ssh/known_hosts"), `[127.0.0.1]:${sshd.port} ${pub}\n`);
    const { stdout: oldFp } = await run("ssh-keygen", ["-lf", `${other}.pub`]);
    const r = await add(victim, "local", host.root);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /has CHANGED/);
    assert.ok(r.stderr.includes(oldFp.split(" ")[1] ?? "?"), "names the known fingerprint");
    assert.ok(r.stderr.includes(sshd.hostFingerprint), "names the offered fingerprint");
    assert.match(r.stderr, /ssh-keygen -R '\[127\.0\.0\.1\]:\d+'/);
  } finally {
    await victim.cleanup();
  }
});

test("a key the server does not accept, and a root where no agentd runs, fail with the next step", async () => {
  const wrong = join(user.home, "wrong_key");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", wrong]);
  const denied = await add(user, "local", host.root, ["--ssh-key", wrong]);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /root@127\.0\.0\.1 port \d+ refused every key offered/);
  assert.match(denied.stderr, /→ Pass your key with --ssh-key/);

  const closed = await user.tako([
    "servers",
    "add",
    "nobody",
    `root@127.0.0.1`,
    "--port",
    String(await freePort()),
    "--ci",
  ]);
  assert.equal(closed.code, 1);
  assert.match(
    closed.stderr,
    /cannot reach root@127\.0\.0\.1 port \d+ over SSH: ECONNREFUSED\n {2}→ Check the host, the port and that sshd runs there\./,
  );

  const empty = await add(user, "ghost", join(host.root, "nothing-here"));
  assert.equal(empty.code, 1);
  assert.match(
    empty.stderr,
    /agentd does not answer on ghost: nothing accepts connections at .*nothing-here\/var\/run\/tako\/tako\.sock/,
  );
  assert.match(
    empty.stderr,
    /→ Install or start Tako there: `tako servers add ghost root@127\.0\.0\.1 --install`/,
  );
});

test("the key can come from ssh-agent, or be encrypted and unlocked with TAKO_SSH_PASSPHRASE", async () => {
  const agentUser = await makeCliUser(sshd);
  const agentDir = await makeTempRoot("agent");
  let agentPid = 0;
  try {
    // Only the agent holds the key: ~/.ssh has no identity file.
    const key = join(agentDir.root, "key");
    await writeFile(key, await readFile(join(agentUser.home, ".ssh/id_ed25519")), { mode: 0o600 });
    await rm(join(agentUser.home, ".ssh/id_ed25519"));
    await rm(join(agentUser.home, ".ssh/id_ed25519.pub"));
    const sock = join(agentDir.root, "agent.sock");
    const { stdout } = await run("ssh-agent", ["-a", sock, "-s"]);
    agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(stdout)?.[1]);
    await run("ssh-add", [key], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
    const withoutAgent = await add(agentUser, "a", host.root);
    assert.equal(withoutAgent.code, 1);
    assert.match(
      withoutAgent.stderr,
      /no SSH key to log in to a: none of ~\/\.ssh\/\{id_ed25519,id_ecdsa,id_rsa\} exists and no ssh-agent runs/,
    );
    const viaAgent = await agentUser.tako(
      ["servers", "add", "a", sshd.target, "--port", String(sshd.port), "--root", host.root],
      { env: { SSH_AUTH_SOCK: sock } },
    );
    assert.equal(viaAgent.code, 0, viaAgent.stderr);

    // An encrypted key: refused without the passphrase, accepted with it.
    await run("ssh-keygen", ["-q", "-p", "-P", "", "-N", "correct horse", "-f", key]);
    const locked = await add(agentUser, "b", host.root, ["--ssh-key", key]);
    assert.equal(locked.code, 1);
    assert.match(locked.stderr, /the SSH key .*key is encrypted\n {2}→ Set TAKO_SSH_PASSPHRASE/);
    const unlocked = await agentUser.tako(
      [
        "servers",
        "add",
        "b",
        sshd.target,
        "--port",
        String(sshd.port),
        "--root",
        host.root,
        "--ssh-key",
        key,
      ],
      { env: { TAKO_SSH_PASSPHRASE: "correct horse" } },
    );
    assert.equal(unlocked.code, 0, unlocked.stderr);
    assert.match(
      await readFile(join(agentUser.takoHome, "config.toml"), "utf8"),
      new RegExp(`ssh_key = "${key}"`),
    );
  } finally {
    if (agentPid) process.kill(agentPid, "SIGTERM");
    await agentUser.cleanup();
    await agentDir.cleanup();
  }
});
