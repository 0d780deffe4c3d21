import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { INSTALLED_DAEMONS } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import { AgentService } from "@tako/proto";
import { createRpcChannel, createRpcClient } from "@tako/rpc";
import { startTestHost, type TestHost } from "@tako/testkit";

const run = promisify(execFile);
const protoDir = fileURLToPath(new URL("../../../../proto", import.meta.url));

let host: TestHost;
before(async () => {
  host = await startTestHost();
});
after(() => host?.stop());

test("curl --unix-socket with a JSON body gets ServerInfo from agentd", async () => {
  const { stdout } = await run("curl", [
    "-sS",
    "--fail-with-body",
    "--unix-socket",
    host.socket("agentd"),
    "-H",
    "content-type: application/json",
    "-d",
    "{}",
    "http://localhost/tako.v1.AgentService/ServerInfo",
  ]);
  const info = JSON.parse(stdout);
  assert.equal(info.rootDir, host.root);
  assert.equal(info.httpsPort, host.httpsPort);
  assert.equal(info.pid, await host.pidOf("agentd"));
  assert.deepEqual(
    info.daemons.map((d: { name: string }) => d.name),
    [...INSTALLED_DAEMONS],
  );
  for (const d of info.daemons) {
    assert.equal(d.status, "SERVING_STATUS_SERVING", d.name);
    assert.ok(d.pid > 0, d.name);
    assert.equal(d.pid, await host.pidOf(d.name));
  }
});

test("a @grpc/grpc-js client generated from proto/ gets ServerInfo from agentd", async () => {
  const definition = await protoLoader.load("tako/v1/agent.proto", {
    includeDirs: [protoDir],
    longs: String,
    enums: String,
    defaults: true,
  });
  const tako = grpc.loadPackageDefinition(definition).tako as grpc.GrpcObject;
  const AgentClient = (tako.v1 as grpc.GrpcObject).AgentService as grpc.ServiceClientConstructor;
  // Methods are added from the service definition at run time, hence the narrow cast.
  const client = new AgentClient(
    `unix:${host.socket("agentd")}`,
    grpc.credentials.createInsecure(),
  ) as unknown as grpc.Client & {
    ServerInfo: (req: object, opts: grpc.CallOptions, cb: (err: Error | null, res: never) => void) => void;
  };
  try {
    const info = await new Promise<{
      pid: number;
      rootDir: string;
      daemons: { name: string; status: string }[];
    }>((resolve, reject) =>
      client.ServerInfo({}, { deadline: Date.now() + 5000 }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    );
    assert.equal(info.rootDir, host.root);
    assert.equal(info.pid, await host.pidOf("agentd"));
    assert.ok(info.daemons.every((d) => d.status === "SERVING_STATUS_SERVING"));
  } finally {
    client.close();
  }
});

test("the management socket is open to owner and group only", async () => {
  const real = join(host.paths.runDir, `tako.${await host.pidOf("agentd")}.sock`);
  assert.equal((await stat(real)).mode & 0o777, 0o660);
});

test("reloading a daemon that does not exist is refused with UNKNOWN_DAEMON", async () => {
  const channel = createRpcChannel(host.socket("agentd"));
  try {
    await assert.rejects(
      createRpcClient(AgentService, channel).reloadDaemon({ daemon: "nginx" }),
      (err: unknown) => TakoError.is(err, "UNKNOWN_DAEMON"),
    );
  } finally {
    channel.close();
  }
});
