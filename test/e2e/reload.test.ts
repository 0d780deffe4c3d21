// Graceful reload of every daemon: a client calling in a loop across three consecutive reloads
// of the same daemon sees zero failed calls, and the PID behind the socket changes each time.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type DaemonName, INSTALLED_DAEMONS } from "@tako/daemon";
import { AgentService, HealthService } from "@tako/proto";
import { createRpcChannel, createRpcClient, type RpcChannelOptions } from "@tako/rpc";
import { sleep, startTestHost, type TestHost } from "@tako/testkit";

const MIN_CALLS = 2_000;
const RELOADS = 3;

let host: TestHost;
before(async () => {
  host = await startTestHost();
});
after(() => host?.stop());

/** Callers hammering Health.Check on the daemon's stable socket until stopped. */
function callLoop(socketPath: string, options: RpcChannelOptions) {
  const channel = createRpcChannel(socketPath, options);
  const client = createRpcClient(HealthService, channel);
  const stats = { calls: 0, failures: [] as string[], pids: new Set<number>() };
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        const res = await client.check({});
        stats.pids.add(res.pid);
        stats.calls++;
      } catch (err) {
        stats.failures.push(err instanceof Error ? err.message : String(err));
      }
    }
    channel.close();
  })();
  return {
    stats,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

async function reloadViaAgent(daemon: DaemonName): Promise<{ oldPid: number; newPid: number }> {
  const channel = createRpcChannel(host.socket("agentd"), { timeoutMs: 60_000 });
  try {
    return await createRpcClient(AgentService, channel).reloadDaemon({ daemon });
  } finally {
    channel.close();
  }
}

describe("graceful reload under load", () => {
  for (const daemon of INSTALLED_DAEMONS) {
    test(`${daemon}: ${RELOADS} reloads, >= ${MIN_CALLS} calls, zero failures`, async () => {
      const socket = host.socket(daemon);
      const loops = [
        callLoop(socket, { httpVersion: "2", binary: true }),
        callLoop(socket, { httpVersion: "2", binary: true }),
        callLoop(socket, { httpVersion: "1.1", binary: false }),
        callLoop(socket, { protocol: "grpc" }),
      ];
      const pids = [await host.pidOf(daemon)];
      for (let i = 0; i < RELOADS; i++) {
        await sleep(300);
        if (i === 0) {
          // A plain SIGHUP to the process behind the socket, as an operator would send it.
          const before = pids.at(-1) ?? 0;
          process.kill(before, "SIGHUP");
          for (let t = 0; t < 400 && (await host.pidOf(daemon).catch(() => before)) === before; t++)
            await sleep(25);
          pids.push(await host.pidOf(daemon));
        } else {
          const { oldPid, newPid } = await reloadViaAgent(daemon);
          assert.equal(oldPid, pids.at(-1));
          pids.push(newPid);
        }
      }
      while (loops.reduce((n, l) => n + l.stats.calls, 0) < MIN_CALLS) await sleep(50);
      await sleep(300);
      await Promise.all(loops.map((l) => l.stop()));

      const calls = loops.reduce((n, l) => n + l.stats.calls, 0);
      const failures = loops.flatMap((l) => l.stats.failures);
      assert.deepEqual(failures, [], `${failures.length} of ${calls + failures.length} calls failed`);
      assert.ok(calls >= MIN_CALLS, `only ${calls} calls`);
      assert.equal(new Set(pids).size, RELOADS + 1, `PIDs behind the socket: ${pids.join(" → ")}`);
      assert.equal(await host.pidOf(daemon), pids.at(-1));
      // Every loop ended up talking to the final process.
      for (const l of loops) assert.ok(l.stats.pids.has(pids.at(-1) ?? 0));
    });
  }
});
