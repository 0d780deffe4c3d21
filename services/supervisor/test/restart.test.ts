// A supervisor stopped and started again (not reloaded: every app process ends in between)
// brings each app back on its own: the stored desired count, the committed release and its
// secrets, which are stored encrypted.
import assert from "node:assert/strict";
import { closeSync, openSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { createLogger } from "@tako/daemon";
import { LocalHost } from "@tako/host";
import { InstanceState } from "@tako/proto";
import { freePort, makeTempRoot, processesMentioning, waitFor } from "@tako/testkit";
import { httpGet } from "./helpers/http.js";
import { collect, connect, releaseSpec } from "./helpers/supervisor.js";

const SECRET = "Grace-7f3e1c9b";

const outputs: number[] = [];

async function startHost(root: string): Promise<LocalHost> {
  const output = openSync(join(root, "daemons.log"), "a");
  outputs.push(output);
  const host = new LocalHost({
    root,
    httpPort: await freePort(),
    httpsPort: await freePort(),
    log: createLogger({ write: () => undefined }),
    daemons: ["supervisor"],
    stopDeadlineMs: 15_000,
    daemonOutput: output,
  });
  await host.start();
  return host;
}

test("the desired count, release and secrets survive a supervisor restart", async () => {
  const temp = await makeTempRoot("rst");
  let host: LocalHost | undefined;
  try {
    host = await startHost(temp.root);
    const socket = join(host.paths.runDir, "supervisor.sock");
    let { client, channel } = connect(socket);
    const spec = await releaseSpec(host.paths, {
      app: "keeper",
      version: "v7",
      fixture: "ts-fetch",
      secrets: { GREETING_NAME: SECRET, API_TOKEN: "t" },
    });
    assert.ok((await collect(client.apply({ release: spec }))).at(-1)?.done);
    await client.scale({ app: "keeper", env: "production", instances: 2 });
    channel.close();
    await host.stop();
    host = undefined;
    assert.deepEqual(await processesMentioning(temp.root), [], "stopping the supervisor stopped the apps");

    const stateDir = join(temp.root, "opt/tako/state");
    for (const file of await readdir(stateDir)) {
      const bytes = await readFile(join(stateDir, file));
      assert.ok(!bytes.includes(SECRET), `${file} does not hold the secret in plain text`);
    }

    host = await startHost(temp.root);
    ({ client, channel } = connect(socket));
    const app = await waitFor(
      async () => {
        const { apps } = await client.status({ app: "keeper", env: "production" });
        const s = apps[0];
        return s && s.instances.filter((i) => i.state === InstanceState.HEALTHY).length === 2 ? s : undefined;
      },
      { what: "both instances to come back", timeoutMs: 30_000 },
    );
    assert.equal(app.version, "v7");
    assert.equal(app.desiredInstances, 2);
    const res = await httpGet(app.instances[0]?.port ?? 0, "/", { host: "keeper.example.com" });
    assert.equal(JSON.parse(res.body).greeting, `Hello, ${SECRET}.`);
    channel.close();
  } finally {
    await host?.stop();
    for (const fd of outputs.splice(0)) closeSync(fd);
    await temp.cleanup();
  }
});
