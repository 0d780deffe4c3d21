// The sshd harness against the real OpenSSH client: it accepts its client key, is trusted
// through the known_hosts lines it produces (plain and hashed), and leaves nothing running once
// stopped. (Forwarding to Unix sockets is exercised by the CLI's SSH tests.)
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { isAlive, startTestSshd } from "../src/index.js";

const run = promisify(execFile);

test("the harness sshd serves its client key, is trusted by its known_hosts lines and stops cleanly", async () => {
  const sshd = await startTestSshd();
  const home = await mkdtemp("/tmp/tk-home-");
  try {
    for (const hashed of [false, true]) {
      await sshd.setUpHome(home, { hashed });
      const ssh = [
        "-p",
        String(sshd.port),
        "-i",
        join(home, ".ssh/id_ed25519"),
        "-o",
        `UserKnownHostsFile=${join(home, ".ssh/known_hosts")}`,
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
        sshd.target,
      ];
      const { stdout } = await run("ssh", [...ssh, "echo hello from $(id -un)"]);
      assert.equal(stdout.trim(), "hello from root");
    }
    // A client that does not know the host key is refused by OpenSSH's own strict checking.
    await assert.rejects(
      run("ssh", [
        "-p",
        String(sshd.port),
        "-i",
        join(home, ".ssh/id_ed25519"),
        "-o",
        `UserKnownHostsFile=${join(home, "empty")}`,
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
        sshd.target,
        "true",
      ]),
      /Host key verification failed/,
    );
    assert.match(sshd.hostFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    const { stdout: fp } = await run("ssh-keygen", ["-lf", join(sshd.dir, "host_ed25519.pub")]);
    assert.ok(fp.includes(sshd.hostFingerprint), fp);
    assert.match(await sshd.readLog(), /Accepted publickey for root/);
  } finally {
    const pid = Number((await readFile(join(sshd.dir, "sshd.pid"), "utf8")).trim());
    await sshd.stop();
    assert.ok(!isAlive(pid), "sshd exited");
    await assert.rejects(
      run("ssh-keyscan", ["-p", String(sshd.port), "127.0.0.1"]).then((r) => {
        if (!r.stdout.trim()) throw new Error("nothing answers");
      }),
    );
    await rm(home, { recursive: true, force: true });
  }
});
