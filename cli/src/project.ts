import { TakoError } from "@tako/errors";
import { type AppConfig, configPath, loadAppConfig } from "./config/app-config.js";
import { type Deployment, deploymentOf } from "./config/deployment.js";
import { loadGlobalConfig, type ServerEntry, serverNamed } from "./config/global-config.js";
import type { GlobalArgs } from "./context.js";

/** The app's tako.toml, from -c or the current directory. */
export function loadProject(args: Pick<GlobalArgs, "config">): Promise<AppConfig> {
  return loadAppConfig(configPath(args.config));
}

export interface DeployTarget {
  readonly config: AppConfig;
  readonly deployment: Deployment;
  /** The env's servers from the global config, leader first. */
  readonly servers: readonly ServerEntry[];
}

/** tako.toml, the environment's deployment and its servers; `only` narrows to one server. */
export async function loadDeployTarget(
  args: Pick<GlobalArgs, "config">,
  env: string,
  only?: string | undefined,
): Promise<DeployTarget> {
  const config = await loadProject(args);
  const deployment = deploymentOf(config, env);
  const global = await loadGlobalConfig();
  let names = deployment.servers;
  if (only !== undefined) {
    if (!names.includes(only)) {
      throw new TakoError(
        "SERVER_NOT_FOUND",
        `${only} is not a server of [envs.${env}] (${names.join(", ")})`,
        {
          hint: `Name one of: ${names.join(", ")}, or add it to servers in [envs.${env}].`,
        },
      );
    }
    names = [only];
  }
  return { config, deployment, servers: names.map((n) => serverNamed(global, n)) };
}
