import { homedir } from "node:os";
import type { ServerEntry } from "../config/global-config.js";
import { expandHome } from "../config/global-config.js";
import { openRemoteAgent, type RemoteAgent } from "../ssh/remote-agent.js";
import { SshSession } from "../ssh/ssh-session.js";

/** How the CLI logs in over SSH, from flags and the environment. */
export interface SshSettings {
  readonly home: string;
  /** --ssh-key: overrides every server's own key. */
  readonly sshKey: string | undefined;
  readonly agentSocket: string | undefined;
  readonly passphrase: string | undefined;
  readonly debug: (text: string) => void;
}

export function sshSettings(
  flags: { sshKey?: string | undefined },
  debug: (text: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): SshSettings {
  const home = env.HOME || homedir();
  return {
    home,
    sshKey: flags.sshKey ? expandHome(flags.sshKey, home) : undefined,
    agentSocket: env.SSH_AUTH_SOCK || undefined,
    passphrase: env.TAKO_SSH_PASSPHRASE || undefined,
    debug,
  };
}

/** An SSH session to a server and its agentd, closed together. */
export interface ServerConnection {
  readonly server: ServerEntry;
  readonly ssh: SshSession;
  readonly agent: RemoteAgent;
  close(): void;
}

export async function openSsh(server: ServerEntry, settings: SshSettings): Promise<SshSession> {
  const key = settings.sshKey ?? (server.sshKey ? expandHome(server.sshKey, settings.home) : undefined);
  return SshSession.connect(
    { name: server.name, host: server.host, port: server.port, user: server.user, sshKey: key },
    {
      home: settings.home,
      agentSocket: settings.agentSocket,
      passphrase: settings.passphrase,
      debug: settings.debug,
    },
  );
}

/** Logs in to the server and opens its management API (agentd) over a forwarded stream. */
export async function connectServer(
  server: ServerEntry,
  settings: SshSettings,
  options: { timeoutMs?: number } = {},
): Promise<ServerConnection> {
  const ssh = await openSsh(server, settings);
  try {
    const agent = await openRemoteAgent(ssh, server.root, options);
    return {
      server,
      ssh,
      agent,
      close: () => {
        agent.close();
        ssh.close();
      },
    };
  } catch (err) {
    ssh.close();
    throw err;
  }
}

/** Runs `body` against the server's agentd, closing the connection afterwards. */
export async function withServer<T>(
  server: ServerEntry,
  settings: SshSettings,
  body: (connection: ServerConnection) => Promise<T>,
  options: { timeoutMs?: number } = {},
): Promise<T> {
  const connection = await connectServer(server, settings, options);
  try {
    return await body(connection);
  } finally {
    connection.close();
  }
}

/** Outcome of one server of a fan-out. */
export type ServerOutcome<T> =
  | { readonly server: string; readonly ok: true; readonly value: T }
  | { readonly server: string; readonly ok: false; readonly error: unknown };

/** Runs `body` on every server in parallel and reports each server's outcome. */
export async function onEveryServer<T>(
  servers: readonly ServerEntry[],
  settings: SshSettings,
  body: (connection: ServerConnection) => Promise<T>,
): Promise<ServerOutcome<T>[]> {
  return Promise.all(
    servers.map(async (server): Promise<ServerOutcome<T>> => {
      try {
        return { server: server.name, ok: true, value: await withServer(server, settings, body) };
      } catch (error) {
        return { server: server.name, ok: false, error };
      }
    }),
  );
}
