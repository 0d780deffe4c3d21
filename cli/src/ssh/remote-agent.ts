import type { Duplex } from "node:stream";
import { hostPaths, SOCKET_NAMES } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import { AgentService } from "@tako/proto";
import { createRpcChannel, createRpcClient, type RpcChannel, stableSocketPath } from "@tako/rpc";
import { deferredStream } from "./forwarded-stream.js";
import type { SshSession } from "./ssh-session.js";

export type AgentClient = ReturnType<typeof createRpcClient<typeof AgentService>>;

/** agentd of one server, reached over SSH. */
export interface RemoteAgent {
  readonly client: AgentClient;
  /** The management socket on the server. */
  readonly socketPath: string;
  close(): void;
}

/** The management socket of a host whose paths hang off `root`. */
export function managementSocket(root: string): string {
  return stableSocketPath(hostPaths(root).runDir, SOCKET_NAMES.agentd);
}

/**
 * Opens agentd's management API on the server behind `session`: Connect over HTTP/2 (the Deploy
 * stream is bidirectional) through forwarded Unix-socket streams. The first stream is opened
 * here, so an absent or dead agentd is reported at once and clearly; the transport opens more
 * itself if it ever reconnects.
 */
export async function openRemoteAgent(
  session: SshSession,
  root: string,
  options: { timeoutMs?: number } = {},
): Promise<RemoteAgent> {
  const socketPath = managementSocket(root);
  let first: Duplex | undefined;
  try {
    first = await session.openStreamLocal(socketPath);
  } catch (err) {
    throw new TakoError(
      "DAEMON_UNREACHABLE",
      `agentd does not answer on ${session.target.name}: nothing accepts connections at ${socketPath}`,
      {
        cause: err,
        metadata: { server: session.target.name },
        hint: `Install or start Tako there: \`tako servers add ${session.target.name} ${session.target.user}@${session.target.host} --install\`${root === "/" ? ", or check `systemctl status tako.target` on the server" : ""}.`,
      },
    );
  }
  const channel: RpcChannel = createRpcChannel(socketPath, {
    timeoutMs: options.timeoutMs ?? 30_000,
    httpVersion: "2",
    connect: () => {
      const stream = first ?? deferredStream(session.openStreamLocal(socketPath));
      first = undefined;
      return stream;
    },
  });
  return {
    client: createRpcClient(AgentService, channel),
    socketPath,
    close: () => {
      first?.destroy();
      channel.close();
    },
  };
}
