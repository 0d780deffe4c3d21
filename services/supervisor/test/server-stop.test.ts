// `tako server stop` (the real CLI) on a host running apps leaves no process behind: no daemon,
// no app instance, no socket.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { hostPaths } from "@tako/daemon";
import { InstanceState } from "@tako/proto";
import {
  makeTempRoot,
  processesMentioning,
  runTako,
  socketsIn,
  startTakoServer,
  type TempRoot,
} from "@tako/testkit";
import { collect, connect, releaseSpec } from "./helpers/supervisor.js";

let temp: TempRoot;
before(async () => {
  temp = await makeTempRoot("stop");
});
after(async () => {
  await runTako(["server", "stop", "--root", temp.root]);
  await temp.cleanup();
});

test("tako server stop ends every app process with the daemons", async () => {
  const start = await startTakoServer(temp.root);
  assert.equal(start.code, 0, start.stderr);
  const paths = hostPaths(temp.root);
  const { client, channel } = connect(join(paths.runDir, "supervisor.sock"));
  try {
    for (const [app, fixture] of [
      ["one", "crashy"],
      ["two", "ts-fetch"],
    ] as const) {
      const spec = await releaseSpec(paths, { app, version: "v1", fixture, secrets: { GREETING_NAME: "x" } });
      assert.ok((await collect(client.apply({ release: spec }))).at(-1)?.done);
    }
    await client.scale({ app: "one", env: "production", instances: 2 });
    const { apps } = await client.status({ app: "", env: "" });
    const pids = apps.flatMap((a) =>
      a.instances.filter((i) => i.state === InstanceState.HEALTHY).map((i) => i.pid),
    );
    assert.equal(pids.length, 3);
    const running = (await processesMentioning(temp.root)).map((p) => p.pid);
    for (const pid of pids) assert.ok(running.includes(pid), `instance ${pid} runs under the root`);
  } finally {
    channel.close();
  }

  const stop = await runTako(["server", "stop", "--root", temp.root, "--ci"]);
  assert.equal(stop.code, 0, stop.stderr);
  assert.deepEqual(await processesMentioning(temp.root), [], "no daemon and no app process left");
  assert.deepEqual(await socketsIn(paths.runDir), [], "no socket left");
});
