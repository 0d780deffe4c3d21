import { LogStream } from "@tako/proto";
import type { Argv, CommandModule } from "yargs";
import { type GlobalArgs, handle, sshFrom } from "../context.js";
import { loadDeployTarget } from "../project.js";
import { connectServer, type ServerConnection } from "../remote/server-connection.js";

interface LogsArgs {
  readonly env: string;
  readonly tail: boolean;
  readonly days: number;
  readonly lines: number;
}

const STREAMS: Record<LogStream, string> = {
  [LogStream.UNSPECIFIED]: "?",
  [LogStream.STDOUT]: "out",
  [LogStream.STDERR]: "err",
  [LogStream.TAKO]: "tako",
};

export const logsCommand: CommandModule<GlobalArgs, LogsArgs & GlobalArgs> = {
  command: "logs",
  describe: "Print the app's recent output from every server of the environment; --tail keeps following",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option("env", { type: "string", default: "production" })
      .option("tail", {
        type: "boolean",
        default: false,
        describe: "Keep streaming new lines (Ctrl-C to stop)",
      })
      .option("days", { type: "number", default: 3, describe: "History to show, in days" })
      .option("lines", {
        type: "number",
        default: 0,
        describe: "At most this many recent lines per server (0: all)",
      }) as unknown as Argv<LogsArgs & GlobalArgs>,
  handler: handle<LogsArgs>(async (args, term) => {
    const { deployment, servers } = await loadDeployTarget(args, args.env);
    const settings = sshFrom(args, term);
    const prefix = servers.length > 1;
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    const connections: ServerConnection[] = [];
    const history: Record<string, unknown>[] = [];
    try {
      await Promise.all(
        servers.map(async (server) => {
          const connection = await connectServer(server, settings, { timeoutMs: 60_000 });
          connections.push(connection);
          const stream = connection.agent.client.logs(
            {
              app: deployment.app,
              env: deployment.env,
              sinceUnixMs: BigInt(Date.now() - Math.max(0, args.days) * 86_400_000),
              tailLines: Math.max(0, Math.floor(args.lines)),
              follow: args.tail,
            },
            { signal: stop.signal, ...(args.tail ? { timeoutMs: 2 ** 31 - 1 } : {}) },
          );
          try {
            for await (const batch of stream) {
              for (const e of batch.entries) {
                const entry = {
                  server: server.name,
                  time: new Date(Number(e.timeUnixMs)).toISOString(),
                  stream: STREAMS[e.stream] ?? "?",
                  instance: e.instanceId,
                  text: e.text,
                };
                if (args.json && !args.tail) history.push(entry);
                else if (args.json) process.stdout.write(`${JSON.stringify(entry)}\n`);
                else {
                  const who = `${prefix ? `${server.name} ` : ""}${e.instanceId || "tako"}`;
                  process.stdout.write(
                    `${entry.time} ${who} ${entry.stream === "err" ? "! " : ""}${e.text}\n`,
                  );
                }
              }
            }
          } catch (err) {
            if (!stop.signal.aborted) throw err;
          }
        }),
      );
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      for (const c of connections) c.close();
    }
    if (args.json && !args.tail) term.result("", { ok: true, entries: history });
  }),
};
