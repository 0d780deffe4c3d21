// The program the supervisor runs for each HTTP instance: `node <this file> <entry module>`.
// Contract: read the bootstrap envelope from fd 3 (secrets never come from the environment),
// import the app, await its ready(), listen on HOST:PORT (127.0.0.1:0), write "<port>\n" to
// fd 4; answer the supervisor's probe on Host tako.internal; on SIGTERM stop accepting, finish
// requests in flight and exit. Kept to node:fs/http/url imports so a cold start stays cheap.
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { runtimeState } from "../runtime/state.js";
import { resolveApp } from "../server/app-handler.js";
import { AppServer } from "../server/app-server.js";
import { parseBootstrap, readBootstrapFd } from "../server/bootstrap.js";
import { reportReady } from "../server/readiness.js";

function fail(message: string): never {
  process.stderr.write(`tako.sh: ${message}\n`);
  process.exit(1);
}

// A supervisor that is being replaced may briefly have nobody reading our output; losing a line
// is better than dying of EPIPE.
const ignoreBrokenPipe = (err: NodeJS.ErrnoException) => {
  if (err.code !== "EPIPE") throw err;
};
process.stdout.on("error", ignoreBrokenPipe);
process.stderr.on("error", ignoreBrokenPipe);

async function main(): Promise<void> {
  const entry = process.argv[2];
  if (!entry) fail("usage: server.js <entry module>");

  let boot: ReturnType<typeof parseBootstrap>;
  try {
    boot = parseBootstrap(readBootstrapFd(3));
  } catch (err) {
    fail((err as Error).message);
  }
  runtimeState.secrets = boot.secrets;
  runtimeState.storages = boot.storages;
  runtimeState.instanceId = boot.instanceId;
  runtimeState.version = boot.version;

  const mod = (await import(pathToFileURL(isAbsolute(entry) ? entry : resolve(entry)).href)) as Record<
    string,
    unknown
  >;
  const app = await resolveApp(mod);
  if (app.ready) await app.ready();

  const server = new AppServer({
    token: boot.token,
    listener: app.listener,
    appName: process.env.TAKO_APP_NAME ?? "",
    version: boot.version,
    instanceId: boot.instanceId,
  });
  const port = await server.listen(process.env.HOST || "127.0.0.1", Number(process.env.PORT || 0));
  runtimeState.port = port;
  server.status = "healthy";

  let terminations = 0;
  process.on("SIGTERM", () => {
    if (++terminations > 1) process.exit(1);
    server.drain().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  reportReady(port);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `tako.sh: the app failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
