// Identity of a deployment. The naming rules themselves are @tako/appspec's (shared with agentd
// and the CLI).

/** "{app}/{env}": the key of a deployment in every table and message. */
export type DeploymentKey = `${string}/${string}`;

export function deploymentKey(app: string, env: string): DeploymentKey {
  return `${app}/${env}`;
}
