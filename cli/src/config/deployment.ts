import { TakoError } from "@tako/errors";
import type { AppConfig } from "./app-config.js";

/** What one environment of the app deploys: everything DeployStart needs from tako.toml. */
export interface Deployment {
  readonly app: string;
  readonly env: string;
  readonly routes: readonly string[];
  /** Server names; the first is the leader, which runs the release command. */
  readonly servers: readonly string[];
  /** [vars] merged with [vars.<env>] (the env's win). */
  readonly vars: Readonly<Record<string, string>>;
  /** "" for none. */
  readonly releaseCommand: string;
  readonly idleTimeoutMs: number;
}

/** The deployment of `env`, or a clear error when tako.toml cannot deploy it. */
export function deploymentOf(config: AppConfig, env: string): Deployment {
  if (env === "development") {
    throw new TakoError(
      "CONFIG_INVALID",
      `the development environment is for \`tako dev\` and cannot be deployed`,
      {
        hint: "Deploy another environment, e.g. `tako deploy --env production`.",
      },
    );
  }
  const settings = config.envs[env];
  const declared = Object.keys(config.envs).filter((e) => e !== "development");
  if (!settings) {
    throw new TakoError("CONFIG_INVALID", `${config.file}: there is no [envs.${env}]`, {
      metadata: { file: config.file, env },
      hint: declared.length
        ? `Deploy one of ${declared.map((e) => `--env ${e}`).join(", ")}, or add [envs.${env}] with route and servers.`
        : `Add it to tako.toml:\n    [envs.${env}]\n    route = "${config.name}.example.com"\n    servers = ["web-1"]`,
    });
  }
  if (settings.routes.length === 0) {
    throw new TakoError("CONFIG_INVALID", `${config.file}: [envs.${env}] has no route`, {
      metadata: { file: config.file, env },
      hint: `Add one under [envs.${env}], e.g. route = "${config.name}.example.com"`,
    });
  }
  if (settings.servers.length === 0) {
    throw new TakoError("CONFIG_INVALID", `${config.file}: [envs.${env}] lists no servers`, {
      metadata: { file: config.file, env },
      hint: `Add the servers to deploy to under [envs.${env}], e.g. servers = ["web-1"] (\`tako servers list\` shows yours).`,
    });
  }
  return {
    app: config.name,
    env,
    routes: settings.routes,
    servers: settings.servers,
    vars: { ...config.vars, ...config.envVars[env] },
    releaseCommand: settings.release ?? config.release ?? "",
    idleTimeoutMs: settings.idleTimeoutSeconds * 1000,
  };
}
