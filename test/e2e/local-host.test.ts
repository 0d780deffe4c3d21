// The local host launcher: restarts a daemon that dies, stops retrying on a crash loop and says
// why, refuses a second host on the same root, and leaves nothing behind when stopped.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger, readLauncherState } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import { LocalHost } from "@tako/host";
import { isAlive, processesMentioning, sleep, socketsIn, startTestHost, waitFor } from "@tako/testkit";

test("a daemon killed with SIGKILL is restarted and serves again under a new PID", async () => {
  const host = await startTestHost({ restart: { baseDelayMs: 50 } });
  try {
    const first = await host.pidOf("agentd");
    process.kill(first, "SIGKILL");
    const second = await waitFor(
      async () => {
        const pid = await host.pidOf("agentd");
        return pid !== first ? pid : undefined;
      },
      { what: "agentd to be restarted" },
    );
    assert.ok(isAlive(second));
    const state = await waitFor(async () => {
      const s = await readLauncherState(host.paths.runDir);
      return s?.daemons.agentd?.restarts === 1 ? s : undefined;
    });
    assert.equal(state.daemons.agentd?.state, "running");
  } finally {
    await host.stop();
  }
});

test("a crash loop stops being restarted and the reason is recorded", async () => {
  const host = await startTestHost({ restart: { baseDelayMs: 20, maxCrashes: 3, windowMs: 60_000 } });
  try {
    for (let crash = 1; crash <= 3; crash++) {
      const pid = await waitFor(() => host.pidOf("agentd"), { what: `agentd before crash ${crash}` });
      process.kill(pid, "SIGKILL");
      await waitFor(() => !isAlive(pid));
    }
    const state = await waitFor(
      async () => {
        const s = await readLauncherState(host.paths.runDir);
        return s?.daemons.agentd?.state === "failed" ? s : undefined;
      },
      { what: "the launcher to give up" },
    );
    assert.match(
      state.daemons.agentd?.detail ?? "",
      /crash loop: agentd exited 3 times within 60 s \(last: killed by SIGKILL\)/,
    );
    await sleep(300);
    // Other daemons keep running; no agentd process may be left.
    const agentdProcesses = (await processesMentioning(`${host.root}`)).filter((p) =>
      p.argv.some((a) => a.includes("/agentd/")),
    );
    assert.equal(agentdProcesses.length, 0, "agentd was not restarted after giving up");
  } finally {
    await host.stop();
  }
});

test("a second host on the same root is refused while the first runs", async () => {
  const host = await startTestHost();
  try {
    const second = new LocalHost({
      root: host.root,
      httpPort: 1,
      httpsPort: 2,
      log: createLogger({ write: () => undefined }),
    });
    await assert.rejects(second.start(), (err: unknown) => TakoError.is(err, "HOST_ALREADY_RUNNING"));
    assert.ok(await host.pidOf("agentd"), "the first host still serves");
  } finally {
    await host.stop();
  }
});

test("stopping the host leaves no process and no socket behind", async () => {
  const host = await startTestHost();
  const pid = await host.pidOf("agentd");
  assert.ok((await processesMentioning(host.root)).length > 0);
  await host.host.stop();
  assert.ok(!isAlive(pid));
  assert.deepEqual(await processesMentioning(host.root), []);
  assert.deepEqual(await socketsIn(host.paths.runDir), []);
  await host.stop();
});
