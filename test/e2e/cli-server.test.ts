// `tako server …` driven through the real CLI binary, as the README tells users to.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { INSTALLED_DAEMONS } from "@tako/daemon";
import {
  makeTempRoot,
  processesMentioning,
  runTako,
  socketsIn,
  startTakoServer,
  type TempRoot,
} from "@tako/testkit";

let temp: TempRoot;
before(async () => {
  temp = await makeTempRoot("cli");
});
after(async () => {
  await runTako(["server", "stop", "--root", temp.root]);
  await temp.cleanup();
});

test("start --detach, status --json, reload, stop: every daemon healthy with its PID, nothing left after stop", async () => {
  const start = await startTakoServer(temp.root);
  assert.equal(start.code, 0, start.stderr);
  const { http, https } = start;
  assert.match(start.stderr, /Local host running under/);

  const status = await runTako(["server", "status", "--root", temp.root, "--json"]);
  assert.equal(status.code, 0, status.stderr);
  const info = JSON.parse(status.stdout);
  assert.equal(info.rootDir, temp.root);
  assert.equal(String(info.httpsPort), https);
  assert.deepEqual(
    info.daemons.map((d: { name: string }) => d.name),
    [...INSTALLED_DAEMONS],
  );
  const running = await processesMentioning(temp.root);
  for (const d of info.daemons) {
    assert.equal(d.status, "SERVING_STATUS_SERVING", d.name);
    assert.ok(
      running.some((p) => p.pid === d.pid),
      `${d.name}'s PID ${d.pid} is a live process under the root`,
    );
  }

  const human = await runTako(["server", "status", "--root", temp.root]);
  assert.match(human.stdout, /agentd\s+serving\s+\d+/);

  const reload = await runTako(["server", "reload", "agentd", "--root", temp.root, "--json"]);
  assert.equal(reload.code, 0, reload.stderr);
  const reloaded = JSON.parse(reload.stdout);
  assert.notEqual(reloaded.newPid, reloaded.oldPid);

  const again = await startTakoServer(temp.root, { http, https });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already runs under/);

  const stop = await runTako(["server", "stop", "--root", temp.root, "--ci"]);
  assert.equal(stop.code, 0, stop.stderr);
  assert.deepEqual(await processesMentioning(temp.root), [], "no process left");
  assert.deepEqual(await socketsIn(`${temp.root}/var/run/tako`), [], "no socket left");
});

test("status of a root where nothing runs fails with what to do next", async () => {
  const r = await runTako(["server", "status", "--root", `${temp.root}/nothing-here`]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /Error: no Tako host is running under .*nothing-here\n {2}→ Start one with `tako server start --root/,
  );
});

test("bad flags are refused before anything starts", async () => {
  const r = await runTako(["server", "start", "--root", `${temp.root}/bad`, "--https-port", "70000"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--https-port must be a port number from 1 to 65535, got 70000/);
  const unknown = await runTako(["server", "reload", "nginx", "--root", temp.root]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Invalid values/);
});
