import { spawn } from "node:child_process";
import { mkdir, open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { toJson } from "@bufbuild/protobuf";
import { createLogger, hostPaths } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import { LocalHost } from "@tako/host";
import { ServerInfoResponseSchema } from "@tako/proto";
import type { Argv, CommandModule } from "yargs";
import { type GlobalArgs, handle } from "../context.js";
import { formatServerInfo } from "../output/server-info.js";
import type { Terminal } from "../output/terminal.js";
import { rootOption } from "./root-option.js";
import { localServerInfo } from "./server-status.js";

interface StartArgs {
  readonly root: string;
  readonly httpPort: number | undefined;
  readonly httpsPort: number | undefined;
  readonly detach: boolean;
}

/** Set in the environment of a detached launcher: it reports readiness to its parent over IPC. */
const NOTIFY_ENV = "TAKO_HOST_NOTIFY";
type HostNotice = { type: "tako:host-ready" } | { type: "tako:host-failed"; message: string };

// A real server (root "/") serves on 80/443; a local host under any other directory runs
// unprivileged next to whatever else the machine serves, so it defaults to high ports.
const defaultPorts = (root: string) =>
  root === "/" ? { http: 80, https: 443 } : { http: 8080, https: 8443 };

export const serverStartCommand: CommandModule<GlobalArgs, StartArgs & GlobalArgs> = {
  command: "start",
  describe: "Start the whole daemon set under a root directory (the local host) and keep it running",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option("root", rootOption)
      .option("http-port", {
        type: "number",
        describe: "Public HTTP port of the edge (default 80 with --root /, else 8080)",
      })
      .option("https-port", {
        type: "number",
        describe: "Public HTTPS port of the edge (default 443 with --root /, else 8443)",
      })
      .option("detach", {
        type: "boolean",
        default: false,
        describe: "Run in the background; logs go to <root>/var/log/tako/server.log",
      })
      .example("$0 server start --root /tmp/tako --detach", "Start a throwaway host in the background")
      .example("$0 server stop --root /tmp/tako", "Stop it again") as unknown as Argv<StartArgs & GlobalArgs>,
  handler: handle<StartArgs>(async (args, term) => {
    const ports = {
      httpPort: checkPort("--http-port", args.httpPort ?? defaultPorts(args.root).http),
      httpsPort: checkPort("--https-port", args.httpsPort ?? defaultPorts(args.root).https),
    };
    if (args.detach) await startDetached(args.root, ports, term);
    else await runForeground(args.root, ports, term);
  }),
};

function checkPort(flag: string, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TakoError("CONFIG_INVALID", `${flag} must be a port number from 1 to 65535, got ${port}`, {
      hint: `For example: ${flag} 8443`,
    });
  }
  return port;
}

async function runForeground(root: string, ports: { httpPort: number; httpsPort: number }, term: Terminal) {
  const notify = (msg: HostNotice) => {
    if (process.env[NOTIFY_ENV] && process.send) process.send(msg);
  };
  const host = new LocalHost({ root, ...ports, log: createLogger() });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      term.info("Second signal: killing every daemon now.");
      host.kill();
      process.exit(1);
    }
    term.info(`${signal}: stopping the local host (again to force)…`);
    void host.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", () => undefined); // a closed terminal must not take the host down
  try {
    await host.start();
  } catch (err) {
    notify({ type: "tako:host-failed", message: err instanceof Error ? err.message : String(err) });
    throw err;
  }
  notify({ type: "tako:host-ready" });
  if (process.env[NOTIFY_ENV]) process.disconnect?.();
  const pids = [...host.pids()].map(([name, pid]) => `${name} (pid ${pid})`).join(", ");
  term.info(`Tako local host running under ${root}: ${pids}`);
  term.info(`Stop it with Ctrl-C or \`tako server stop --root ${root}\`.`);
  // The masters' worker processes keep the event loop alive until stop.
}

async function startDetached(root: string, ports: { httpPort: number; httpsPort: number }, term: Terminal) {
  const paths = hostPaths(root);
  await mkdir(paths.logDir, { recursive: true });
  const logPath = join(paths.logDir, "server.log");
  const log = await open(logPath, "a");
  const cli = process.argv[1];
  if (!cli) throw new Error("cannot locate the tako CLI entry point");
  const progress = term.progress(`Starting the local host under ${root}…`);
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      cli,
      "server",
      "start",
      "--root",
      root,
      "--http-port",
      String(ports.httpPort),
      "--https-port",
      String(ports.httpsPort),
      "--ci",
    ],
    { detached: true, stdio: ["ignore", log.fd, log.fd, "ipc"], env: { ...process.env, [NOTIFY_ENV]: "1" } },
  );
  await log.close();
  const outcome = await new Promise<HostNotice>((resolve) => {
    child.once("message", (msg: HostNotice) => resolve(msg));
    child.once("exit", (code) =>
      resolve({ type: "tako:host-failed", message: `the launcher exited with code ${code}` }),
    );
  });
  if (child.connected) child.disconnect();
  child.unref();
  if (outcome.type === "tako:host-failed") {
    progress.fail("The local host did not start");
    const tail = (await readFile(logPath, "utf8").catch(() => ""))
      .trimEnd()
      .split("\n")
      .slice(-15)
      .join("\n");
    throw new TakoError("DAEMON_START_FAILED", `${outcome.message}\n${tail}`, {
      hint: `The full log is ${logPath}.`,
    });
  }
  progress.done(`Local host running under ${root} (launcher pid ${child.pid}); log: ${logPath}`);
  const info = await localServerInfo(root);
  term.result(formatServerInfo(info), toJson(ServerInfoResponseSchema, info));
  term.info(`Stop it with \`tako server stop --root ${root}\`.`);
}
