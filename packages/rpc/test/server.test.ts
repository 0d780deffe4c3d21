import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import type { ConnectRouter } from "@connectrpc/connect";
import { TakoError } from "@tako/errors";
import { EdgeService, HealthService, ServingStatus, SupervisorService } from "@tako/proto";
import {
  createRpcChannel,
  createRpcClient,
  probeSocket,
  RpcServer,
  readSymlinkTarget,
  reapStaleSockets,
  swapSymlink,
} from "../src/index.js";

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
before(async () => {
  dir = await mkdtemp("/tmp/tako-rpc-");
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let networkLookalikeCalls = 0;

/** Health answers with the pid; EdgeService.SetRoutes sleeps `routes[0]` ms, or fails on demand. */
function routes(router: ConnectRouter) {
  router.service(HealthService, {
    check: () => ({ daemon: "test", status: ServingStatus.SERVING, pid: process.pid }),
  });
  router.service(EdgeService, {
    async setRoutes(req) {
      const first = req.routes[0] ?? "";
      if (first === "tako-error") {
        throw new TakoError("NOT_FOUND", "no deployment web/production", { metadata: { app: "web" } });
      }
      if (first === "bug") throw new Error("secret internal detail /var/lib/x");
      if (first === "looks-like-network") {
        networkLookalikeCalls++;
        throw new TakoError("UNAVAILABLE", "the app said: connect ECONNREFUSED 127.0.0.1:5432");
      }
      const ms = Number(first);
      if (ms > 0) await sleep(ms);
      return {};
    },
  });
  router.service(SupervisorService, {
    async *watchEndpoints(_req, ctx) {
      yield { snapshot: true, apps: [] };
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
    },
  });
}

async function startServer(name: string, options: { maxMessageBytes?: number } = {}) {
  const server = new RpcServer({ routes, ...options });
  const socketPath = join(dir, `${name}.${process.pid}.sock`);
  await server.listen(socketPath);
  return { server, socketPath };
}

describe("one socket, every protocol", () => {
  let server: RpcServer;
  let socketPath: string;
  before(async () => {
    ({ server, socketPath } = await startServer("proto"));
  });
  after(() => server.close());

  const variants = [
    { label: "Connect JSON over HTTP/1.1", options: { httpVersion: "1.1", binary: false } },
    { label: "Connect binary over HTTP/1.1", options: { httpVersion: "1.1", binary: true } },
    { label: "Connect binary over HTTP/2", options: { httpVersion: "2", binary: true } },
    { label: "Connect JSON over HTTP/2", options: { httpVersion: "2", binary: false } },
    { label: "gRPC over HTTP/2", options: { protocol: "grpc" } },
  ] as const;
  for (const { label, options } of variants) {
    test(label, async () => {
      const channel = createRpcChannel(socketPath, options);
      try {
        const res = await createRpcClient(HealthService, channel).check({});
        assert.equal(res.pid, process.pid);
        assert.equal(res.status, ServingStatus.SERVING);
      } finally {
        channel.close();
      }
    });
  }

  test("curl --unix-socket with a JSON body", async () => {
    const { stdout } = await run("curl", [
      "-sS",
      "--fail-with-body",
      "--unix-socket",
      socketPath,
      "-H",
      "content-type: application/json",
      "-d",
      "{}",
      "http://localhost/tako.v1.HealthService/Check",
    ]);
    const body = JSON.parse(stdout);
    assert.equal(body.pid, process.pid);
    assert.equal(body.status, "SERVING_STATUS_SERVING");
  });

  test("curl with malformed JSON gets a 400 invalid_argument and the server keeps serving", async () => {
    const { stdout } = await run("curl", [
      "-sS",
      "-w",
      "\n%{http_code}",
      "--unix-socket",
      socketPath,
      "-H",
      "content-type: application/json",
      "-d",
      "{not json",
      "http://localhost/tako.v1.HealthService/Check",
    ]);
    const [body, status] = stdout.split("\n");
    assert.equal(status, "400");
    assert.equal(JSON.parse(body ?? "").code, "invalid_argument");
    const channel = createRpcChannel(socketPath);
    assert.equal((await createRpcClient(HealthService, channel).check({})).pid, process.pid);
    channel.close();
  });

  test("the socket is created owner-only by default", async () => {
    assert.equal((await stat(socketPath)).mode & 0o777, 0o600);
  });
});

describe("limits, deadlines and errors", () => {
  let server: RpcServer;
  let socketPath: string;
  before(async () => {
    ({ server, socketPath } = await startServer("limits", { maxMessageBytes: 1024 }));
  });
  after(() => server.close());

  test("a request over the size limit is refused with REQUEST_TOO_LARGE", async () => {
    const channel = createRpcChannel(socketPath);
    try {
      await assert.rejects(
        createRpcClient(EdgeService, channel).setRoutes({ app: "a", env: "e", routes: ["x".repeat(4096)] }),
        (err: unknown) => TakoError.is(err, "REQUEST_TOO_LARGE"),
      );
    } finally {
      channel.close();
    }
  });

  test("a call past its deadline fails with DEADLINE_EXCEEDED", async () => {
    const channel = createRpcChannel(socketPath, { timeoutMs: 100 });
    try {
      const started = Date.now();
      await assert.rejects(
        createRpcClient(EdgeService, channel).setRoutes({ routes: ["2000"] }),
        (err: unknown) => TakoError.is(err, "DEADLINE_EXCEEDED"),
      );
      assert.ok(Date.now() - started < 1500);
    } finally {
      channel.close();
    }
  });

  test("a channel with timeoutMs 0 sets no deadline, so a watch stays open", async () => {
    const channel = createRpcChannel(socketPath, { timeoutMs: 0 });
    const abort = new AbortController();
    try {
      const stream = createRpcClient(SupervisorService, channel).watchEndpoints({}, { signal: abort.signal });
      const it = stream[Symbol.asyncIterator]();
      assert.equal((await it.next()).value?.snapshot, true);
      const next = it.next();
      next.catch(() => undefined);
      assert.equal(await Promise.race([next.then(() => "ended"), sleep(300).then(() => "open")]), "open");
      // The unary path runs with no deadline too.
      await createRpcClient(EdgeService, channel).setRoutes({ routes: ["10"] });
    } finally {
      abort.abort();
      channel.close();
    }
  });

  test("a TakoError crosses the wire with its reason, message and metadata", async () => {
    const channel = createRpcChannel(socketPath);
    try {
      await assert.rejects(
        createRpcClient(EdgeService, channel).setRoutes({ routes: ["tako-error"] }),
        (err: unknown) => {
          assert.ok(TakoError.is(err, "NOT_FOUND"));
          assert.equal(err.message, "no deployment web/production");
          assert.deepEqual({ ...err.metadata }, { app: "web" });
          return true;
        },
      );
    } finally {
      channel.close();
    }
  });

  test("a channel with timeoutMs 0 sets no deadline", async () => {
    const channel = createRpcChannel(socketPath, { timeoutMs: 0 });
    try {
      await createRpcClient(EdgeService, channel).setRoutes({ routes: ["50"] });
    } finally {
      channel.close();
    }
  });

  test("an error the handler answered is never retried, even when its text mentions ECONNREFUSED", async () => {
    for (const options of [{ httpVersion: "1.1" }, { httpVersion: "2" }, { protocol: "grpc" }] as const) {
      const before = networkLookalikeCalls;
      const channel = createRpcChannel(socketPath, options);
      try {
        await assert.rejects(
          createRpcClient(EdgeService, channel).setRoutes({ routes: ["looks-like-network"] }),
          (err: unknown) => TakoError.is(err, "UNAVAILABLE"),
        );
      } finally {
        channel.close();
      }
      assert.equal(networkLookalikeCalls - before, 1, JSON.stringify(options));
    }
  });

  test("an unexpected error is reported as INTERNAL without its details", async () => {
    const channel = createRpcChannel(socketPath);
    try {
      await assert.rejects(
        createRpcClient(EdgeService, channel).setRoutes({ routes: ["bug"] }),
        (err: unknown) => {
          assert.ok(TakoError.is(err, "INTERNAL"));
          assert.doesNotMatch(err.message, /secret|\/var\/lib/);
          return true;
        },
      );
    } finally {
      channel.close();
    }
  });
});

describe("socket files", () => {
  test("listening on a path over the kernel limit fails with a clear error", async () => {
    const server = new RpcServer({ routes });
    await assert.rejects(server.listen(join(dir, `${"x".repeat(120)}.sock`)), (err: unknown) =>
      TakoError.is(err, "SOCKET_PATH_TOO_LONG"),
    );
  });

  test("a socket left by a killed process is reaped; a live one is kept", async () => {
    const stalePath = join(dir, "reap.111.sock");
    const child = spawn(process.execPath, [
      "-e",
      `require("net").createServer().listen(${JSON.stringify(stalePath)}, () => console.log("up"))`,
    ]);
    await new Promise((resolve) => child.stdout.once("data", resolve));
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    assert.equal(await probeSocket(stalePath), "stale");
    await swapSymlink(join(dir, "reap.sock"), stalePath);

    const live = new RpcServer({ routes });
    const livePath = join(dir, "reap.222.sock");
    await live.listen(livePath);
    await writeFile(join(dir, "reap.notes.txt"), "not a socket");
    try {
      assert.deepEqual(await reapStaleSockets(dir, "reap"), [stalePath]);
      assert.equal(await probeSocket(stalePath), "missing");
      assert.equal(await probeSocket(livePath), "listening");
      // The stable link pointed at the reaped socket, so it is gone too.
      assert.equal(await readSymlinkTarget(join(dir, "reap.sock")), undefined);
    } finally {
      await live.close();
    }
  });

  test("listen refuses a path where another process listens, and reuses one nobody listens on", async () => {
    const a = await startServer("busy");
    try {
      const b = new RpcServer({ routes });
      await assert.rejects(b.listen(a.socketPath), (err: unknown) => TakoError.is(err, "SOCKET_IN_USE"));
    } finally {
      await a.server.close();
    }
  });

  test("the symlink swap is atomic and relative", async () => {
    const link = join(dir, "swap.sock");
    await swapSymlink(link, join(dir, "swap.1.sock"));
    await swapSymlink(link, join(dir, "swap.2.sock"));
    assert.equal(await readSymlinkTarget(link), join(dir, "swap.2.sock"));
  });
});

describe("drain", () => {
  test("calls in flight finish, watches end with UNAVAILABLE, then the socket goes away", async () => {
    const { server, socketPath } = await startServer("drain");
    const channel = createRpcChannel(socketPath);
    try {
      const edge = createRpcClient(EdgeService, channel);
      const supervisor = createRpcClient(SupervisorService, channel);
      const watch = (async () => {
        const seen: boolean[] = [];
        try {
          for await (const msg of supervisor.watchEndpoints({})) seen.push(msg.snapshot);
          return { seen, err: undefined };
        } catch (err) {
          return { seen, err };
        }
      })();
      await sleep(50);
      const slow = edge.setRoutes({ routes: ["400"] });
      await sleep(50);
      const drained = server.drain({ graceMs: 50, deadlineMs: 5000 });
      await slow; // finishes although draining started after it
      const w = await watch;
      assert.deepEqual(w.seen, [true]);
      assert.ok(TakoError.is(w.err, "UNAVAILABLE"), String(w.err));
      await drained;
      assert.equal(server.state, "closed");
      assert.equal(await probeSocket(socketPath), "missing");
    } finally {
      channel.close();
      await server.close();
    }
  });
});
