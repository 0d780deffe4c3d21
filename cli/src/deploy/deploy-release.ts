import { secretsHash } from "@tako/appspec";
import { TakoError } from "@tako/errors";
import type { DeployDone, DeployStep } from "@tako/proto";
import type { BuiltRelease } from "../build/build-app.js";
import type { Deployment } from "../config/deployment.js";
import type { ServerEntry } from "../config/global-config.js";
import type { Progress } from "../output/terminal.js";
import {
  connectServer,
  type ServerConnection,
  type ServerOutcome,
  type SshSettings,
} from "../remote/server-connection.js";
import { ServerDeploy, type ServerDeployPhase } from "./server-deploy.js";

export interface DeployRequestPlan {
  readonly deployment: Deployment;
  readonly release: Pick<BuiltRelease, "version" | "artifactPath" | "sha256" | "sizeBytes">;
  /** The environment's decrypted secrets; sent only to servers whose stored hash differs. */
  readonly secrets: Readonly<Record<string, string>>;
  /** The env's servers, leader (first) first. */
  readonly servers: readonly ServerEntry[];
  readonly ssh: SshSettings;
  readonly progress: Progress;
}

/** What one server reported: the result and each step with its duration. */
export interface ServerDeployResult {
  readonly done: DeployDone;
  readonly steps: readonly DeployStep[];
  /** Whether the secrets were sent (their hash differed from the server's). */
  readonly secretsSent: boolean;
}

/**
 * Deploys one built release to every server of the environment, in parallel: all servers
 * prepare (upload, extract, install); then the leader proceeds and runs the release command; the
 * followers proceed once it has; each rolls out. A leader that fails aborts the followers (their
 * hosts keep the previous release). Returns one outcome per server, in the env's order.
 */
export async function deployRelease(plan: DeployRequestPlan): Promise<ServerOutcome<ServerDeployResult>[]> {
  const { deployment, release, progress } = plan;
  const leaderName = plan.servers[0]?.name;
  const hash = secretsHash(plan.secrets);
  const phases = new Map<string, string>();
  const show = () =>
    progress.update(`Deploying ${release.version}: ${[...phases].map(([s, p]) => `${s} ${p}`).join(", ")}`);

  const connections = new Map<string, ServerConnection>();
  const deploys = new Map<string, ServerDeploy>();
  const failures = new Map<string, unknown>();
  const secretsSent = new Map<string, boolean>();
  try {
    await Promise.all(
      plan.servers.map(async (server) => {
        phases.set(server.name, "connecting");
        show();
        try {
          const connection = await connectServer(server, plan.ssh);
          connections.set(server.name, connection);
          const remote = await connection.agent.client.getSecretsHash({
            app: deployment.app,
            env: deployment.env,
          });
          const send = remote.hash !== hash;
          secretsSent.set(server.name, send);
          const deploy = new ServerDeploy(
            server.name,
            connection.agent.client,
            {
              app: deployment.app,
              env: deployment.env,
              version: release.version,
              artifactSha256: release.sha256,
              artifactSizeBytes: BigInt(release.sizeBytes),
              routes: [...deployment.routes],
              vars: { ...deployment.vars },
              releaseCommand: deployment.releaseCommand,
              leader: server.name === leaderName,
              idleTimeoutMs: BigInt(deployment.idleTimeoutMs),
              ...(send ? { secrets: { values: { ...plan.secrets } } } : {}),
            },
            release.artifactPath,
            {
              onPhase: (phase) => {
                phases.set(server.name, describePhase(phase));
                show();
              },
              onStep: (step) => {
                if (step.finished) {
                  progress.log(
                    `  ${server.name}: ✓ ${step.name} (${step.durationMs} ms)${step.detail ? ` ${step.detail}` : ""}`,
                  );
                } else {
                  phases.set(server.name, step.name);
                  show();
                }
              },
            },
          );
          deploys.set(server.name, deploy);
          await deploy.prepared;
        } catch (err) {
          failures.set(server.name, err);
          phases.set(server.name, "failed");
          show();
        }
      }),
    );

    const leader = leaderName ? deploys.get(leaderName) : undefined;
    const followers = [...deploys.values()].filter((d) => d.server !== leaderName && !failures.has(d.server));
    if (!leader || failures.has(leader.server)) {
      abortAll(followers, leaderName, failures);
    } else {
      // Whenever the leader fails, the followers still rolling out stop and keep their release.
      leader.done.catch(() => abortAll(followers, leaderName, failures));
      leader.proceed();
      try {
        if (deployment.releaseCommand) await leader.releaseFinished;
        for (const f of followers) f.proceed();
      } catch {
        abortAll(followers, leaderName, failures);
      }
    }
    const settled = await Promise.all(
      [...deploys.values()].map(async (d) => {
        try {
          return { server: d.server, done: await d.done, steps: d.steps };
        } catch (err) {
          if (!failures.has(d.server)) failures.set(d.server, err);
          return undefined;
        }
      }),
    );
    return plan.servers.map((server): ServerOutcome<ServerDeployResult> => {
      const ok = settled.find((s) => s?.server === server.name);
      if (ok) {
        return {
          server: server.name,
          ok: true,
          value: { done: ok.done, steps: ok.steps, secretsSent: secretsSent.get(server.name) ?? false },
        };
      }
      return { server: server.name, ok: false, error: failures.get(server.name) };
    });
  } finally {
    for (const c of connections.values()) c.close();
  }
}

function abortAll(
  followers: readonly ServerDeploy[],
  leader: string | undefined,
  failures: Map<string, unknown>,
): void {
  for (const f of followers) {
    if (f.phase.kind === "done" || f.phase.kind === "failed") continue;
    const error = new TakoError(
      "DEPLOY_FAILED",
      `not rolled out: the leader ${leader ?? "?"} failed, so this server keeps its previous release`,
      {
        metadata: { server: f.server },
      },
    );
    failures.set(f.server, error);
    f.abort(error);
  }
}

function describePhase(phase: ServerDeployPhase): string {
  switch (phase.kind) {
    case "starting":
      return "starting";
    case "uploading":
      return `uploading ${phase.totalBytes ? Math.floor((phase.sentBytes / phase.totalBytes) * 100) : 100}%`;
    case "preparing":
      return "preparing";
    case "prepared":
      return "prepared";
    case "rolling-out":
      return "rolling out";
    case "done":
      return "done";
    case "failed":
      return "failed";
  }
}
