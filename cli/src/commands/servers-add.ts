import { toJson } from "@bufbuild/protobuf";
import { TakoError } from "@tako/errors";
import { type ServerInfoResponse, ServerInfoResponseSchema } from "@tako/proto";
import type { Argv, CommandModule } from "yargs";
import {
  DEFAULT_SSH_USER,
  globalConfigPath,
  loadGlobalConfig,
  type ServerEntry,
  saveGlobalConfig,
} from "../config/global-config.js";
import { nameProblem } from "../config/names.js";
import { type GlobalArgs, handle, sshFrom } from "../context.js";
import { type InstallMode, installHost } from "../install/install-host.js";
import { formatServerInfo } from "../output/server-info.js";
import type { Terminal } from "../output/terminal.js";
import { openSsh, type SshSettings } from "../remote/server-connection.js";
import { openRemoteAgent } from "../ssh/remote-agent.js";
import type { SshSession } from "../ssh/ssh-session.js";

interface AddArgs {
  readonly name: string;
  readonly target: string;
  readonly port: number;
  readonly root: string;
  readonly install: boolean;
  readonly httpPort: number | undefined;
  readonly httpsPort: number | undefined;
}

export const serversAddCommand: CommandModule<GlobalArgs, AddArgs & GlobalArgs> = {
  command: "add <name> <target>",
  describe:
    "Add a server: check SSH, its host key and that Tako's agentd answers there (--install ships Tako)",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional("name", { type: "string", demandOption: true, describe: "Name to deploy to, e.g. web-1" })
      .positional("target", {
        type: "string",
        demandOption: true,
        describe: `[user@]host to log in to over SSH (default user: ${DEFAULT_SSH_USER})`,
      })
      .option("port", { type: "number", default: 22, describe: "SSH port" })
      .option("root", {
        type: "string",
        default: "/",
        describe: "Root directory of the Tako host on the server ('/' for a real server)",
      })
      .option("install", {
        type: "boolean",
        default: false,
        describe: "Install Tako's daemon set there when it is missing (built from this CLI's tree)",
      })
      .option("http-port", {
        type: "number",
        describe: "With --install and no systemd: the edge's HTTP port",
      })
      .option("https-port", {
        type: "number",
        describe: "With --install and no systemd: the edge's HTTPS port",
      })
      .example("$0 servers add web-1 tako@203.0.113.10", "Add a server that runs Tako")
      .example(
        "$0 servers add web-1 root@203.0.113.10 --install",
        "Install Tako on it first",
      ) as unknown as Argv<AddArgs & GlobalArgs>,
  handler: handle<AddArgs>(async (args, term) => {
    const server = serverEntry(args);
    const file = globalConfigPath();
    const config = await loadGlobalConfig(file);
    const existing = config.servers.get(server.name);
    if (
      existing &&
      (existing.host !== server.host || existing.port !== server.port || existing.root !== server.root)
    ) {
      throw new TakoError(
        "CONFIG_INVALID",
        `a server named "${server.name}" already exists (${existing.user}@${existing.host}:${existing.port})`,
        { hint: `Remove it first with \`tako servers remove ${server.name}\`, or pick another name.` },
      );
    }
    const ssh = sshFrom(args, term);
    const { info, install } = await checkServer(server, ssh, args, term);
    if (args.dryRun) {
      term.result(`Dry run: ${server.name} checks out; ${file} was not changed.`, {
        ok: true,
        dryRun: true,
        server: server.name,
        info: info ? toJson(ServerInfoResponseSchema, info) : null,
        install: null,
      });
      return;
    }
    if (!info) throw new Error("the server check returned no ServerInfo");
    await saveGlobalConfig(file, [
      ...[...config.servers.values()].filter((s) => s.name !== server.name),
      server,
    ]);
    term.info(
      `Added ${server.name} (${server.user}@${server.host}:${server.port}, root ${server.root}) to ${file}.`,
    );
    term.result(formatServerInfo(info), {
      ok: true,
      server: {
        name: server.name,
        host: server.host,
        port: server.port,
        user: server.user,
        root: server.root,
      },
      info: toJson(ServerInfoResponseSchema, info),
      install: install ?? null,
    });
  }),
};

function serverEntry(args: AddArgs & GlobalArgs): ServerEntry {
  const bad = nameProblem(args.name, "server name");
  if (bad)
    throw new TakoError("CONFIG_INVALID", bad, {
      hint: "For example: tako servers add web-1 tako@203.0.113.10",
    });
  const at = args.target.lastIndexOf("@");
  const user = at === -1 ? DEFAULT_SSH_USER : args.target.slice(0, at);
  const host = at === -1 ? args.target : args.target.slice(at + 1);
  if (!user || !host || /[\s/]/.test(host)) {
    throw new TakoError("CONFIG_INVALID", `"${args.target}" is not [user@]host`, {
      hint: "For example: tako servers add web-1 tako@203.0.113.10 --port 22",
    });
  }
  if (!Number.isInteger(args.port) || args.port < 1 || args.port > 65535) {
    throw new TakoError("CONFIG_INVALID", `--port must be from 1 to 65535, got ${args.port}`, {
      hint: "For example: --port 22",
    });
  }
  if (!args.root.startsWith("/")) {
    throw new TakoError("CONFIG_INVALID", `--root must be an absolute directory, got ${args.root}`, {
      hint: "For example: --root /",
    });
  }
  return {
    name: args.name,
    host,
    port: args.port,
    user,
    root: args.root.replace(/(.)\/+$/, "$1"),
    sshKey: args.sshKey,
  };
}

/**
 * Logs in (host key checked), asks agentd for ServerInfo and, with --install, installs Tako when
 * agentd does not answer. Returns undefined only in a dry run that would install.
 */
async function checkServer(
  server: ServerEntry,
  settings: SshSettings,
  args: AddArgs & GlobalArgs,
  term: Terminal,
): Promise<{ info: ServerInfoResponse | undefined; install?: InstallMode }> {
  const progress = term.progress(`Connecting to ${server.user}@${server.host}:${server.port}…`);
  let ssh: SshSession;
  try {
    ssh = await openSsh(server, settings);
  } catch (err) {
    progress.fail(`Could not log in to ${server.host}`);
    throw err;
  }
  try {
    progress.update(`Logged in to ${server.host}; asking agentd for ServerInfo…`);
    const first: ServerInfoResponse | Error = await serverInfo(ssh, server.root).catch((err: unknown) =>
      err instanceof Error ? err : new Error(String(err)),
    );
    if (!(first instanceof Error)) {
      progress.done(`${server.name}: Tako ${first.version} answers on ${first.hostname}`);
      if (args.install) term.info("Tako already runs there; nothing to install.");
      return { info: first };
    }
    if (!args.install || !TakoError.is(first, "DAEMON_UNREACHABLE")) {
      progress.fail(`${server.name}: agentd does not answer`);
      throw first;
    }
    progress.done(`${server.name}: no Tako host answers under ${server.root}; installing`);
    if (args.dryRun) {
      term.info(`Dry run: would install Tako under ${server.root} on ${server.host}.`);
      return { info: undefined };
    }
    const install = await installHost(
      ssh,
      { root: server.root, httpPort: args.httpPort, httpsPort: args.httpsPort },
      term,
    );
    const info = await serverInfo(ssh, server.root);
    term.info(`${server.name}: Tako ${info.version} answers after the install.`);
    return { info, install };
  } finally {
    ssh.close();
  }
}

async function serverInfo(ssh: SshSession, root: string): Promise<ServerInfoResponse> {
  const agent = await openRemoteAgent(ssh, root, { timeoutMs: 15_000 });
  try {
    return await agent.client.serverInfo({});
  } finally {
    agent.close();
  }
}
