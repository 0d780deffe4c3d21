import { hostPaths, SOCKET_NAMES } from "@tako/daemon";
import { AgentService } from "@tako/proto";
import { createRpcChannel, createRpcClient, stableSocketPath } from "@tako/rpc";

/** Calls agentd on the management socket of the host under `root`, then closes the channel. */
export async function withLocalAgent<T>(
  root: string,
  body: (agent: ReturnType<typeof createRpcClient<typeof AgentService>>) => Promise<T>,
  timeoutMs = 30_000,
): Promise<T> {
  const paths = hostPaths(root);
  const channel = createRpcChannel(stableSocketPath(paths.runDir, SOCKET_NAMES.agentd), { timeoutMs });
  try {
    return await body(createRpcClient(AgentService, channel));
  } finally {
    channel.close();
  }
}
