// `tako servers add --install` into a temp root through the harness sshd: the CLI bundles the
// daemon set from this tree, ships it over SSH, installs the units (rewritten for the root) and,
// as systemd is not PID 1 here, starts the local-host launcher from the installed bundle and says
// so. agentd must then answer through the forwarded management socket.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  freePort,
  makeTempRoot,
  processesMentioning,
  runTako,
  socketsIn,
  startTestSshd,
  type TempRoot,
  type TestSshd,
} from "@tako/testkit";
import { type CliUser, makeCliUser } from "../helpers/cli-env.js";

let sshd: TestSshd;
let user: CliUser;
let target: TempRoot;

before(async () => {
  sshd = await startTestSshd();
  user = await makeCliUser(sshd);
  target = await makeTempRoot("inst");
});
after(async () => {
  await runTako(["server", "stop", "--root", target.root, "--ci"]);
  await target.cleanup();
  await user.cleanup();
  await sshd.stop();
});

test("--install ships the bundle, installs the units and starts the launcher where systemd is not PID 1", async () => {
  const root = target.root;
  const add = (name: string, extra: string[] = []) =>
    user.tako(
      ["servers", "add", name, sshd.target, "--port", String(sshd.port), "--root", root, "--ci", ...extra],
      { timeoutMs: 300_000 },
    );

  const without = await add("box");
  assert.equal(without.code, 1, "no Tako there yet, and no --install");
  assert.match(without.stderr, /agentd does not answer on box[\s\S]*--install/);

  const [http, https] = [await freePort(), await freePort()];
  const r = await add("box", [
    "--install",
    "--http-port",
    String(http),
    "--https-port",
    String(https),
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.install.kind, "launcher");
  assert.match(
    out.install.note,
    /the root is .*, not \/, so the units in .*etc\/systemd\/system are not used: started the local-host launcher instead/,
  );
  assert.equal(out.info.rootDir, root);
  assert.equal(out.info.httpsPort, https);

  const lib = join(root, "usr/lib/tako");
  assert.ok(existsSync(join(lib, "cli/bin/tako.js")), "the CLI is installed");
  assert.ok(existsSync(join(lib, "services/agentd/dist/src/main.js")), "agentd is installed");
  assert.ok(!existsSync(join(lib, "test")), "the end-to-end tests are not shipped");
  const bundle = JSON.parse(await readFile(join(lib, "tako-bundle.json"), "utf8"));
  assert.ok(bundle.workspaces.includes("services/agentd"));
  const unit = await readFile(join(root, "etc/systemd/system/tako-agentd.service"), "utf8");
  assert.match(
    unit,
    new RegExp(`^ExecStart=/usr/bin/node ${lib}/services/agentd/dist/src/main.js --root ${root}$`, "m"),
  );
  assert.ok(existsSync(join(root, "etc/systemd/system/tako.target")));

  // The daemons run from the installed bundle, not from this checkout.
  const processes = await processesMentioning(lib);
  assert.ok(processes.length >= 2, `launcher and agentd run from ${lib}: ${JSON.stringify(processes)}`);
  const agentd = out.info.daemons.find((d: { name: string }) => d.name === "agentd");
  assert.equal(agentd?.pid, processes.find((p) => p.argv.some((a) => a.includes("agentd")))?.pid);

  const again = await add("box", ["--install"]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /Tako already runs there; nothing to install/);

  const stop = await runTako(["server", "stop", "--root", root, "--ci"]);
  assert.equal(stop.code, 0, stop.stderr);
  assert.deepEqual(await processesMentioning(root), []);
  assert.deepEqual(await socketsIn(join(root, "var/run/tako")), []);
});
