import { TakoError } from "@tako/errors";

// Identity rules shared with agentd (see proto/tako/v1/app.proto).

const NAME = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const VERSION = /^[A-Za-z0-9._-]{1,128}$/;

/** "{app}/{env}": the key of a deployment in every table and message. */
export type DeploymentKey = `${string}/${string}`;

export function deploymentKey(app: string, env: string): DeploymentKey {
  return `${app}/${env}`;
}

export function assertName(value: string, what: "app" | "env"): void {
  if (!NAME.test(value)) {
    throw new TakoError(
      "INVALID_ARGUMENT",
      `invalid ${what} name ${JSON.stringify(value)}: use 1-63 characters of a-z, 0-9 and "-", starting with a letter and not ending with "-"`,
      { metadata: { [what]: value.slice(0, 64) } },
    );
  }
}

export function assertVersion(value: string): void {
  if (!VERSION.test(value) || value === "." || value === "..") {
    throw new TakoError(
      "INVALID_ARGUMENT",
      `invalid release version ${JSON.stringify(value.slice(0, 140))}: use 1-128 characters of A-Z, a-z, 0-9, ".", "_" and "-"`,
    );
  }
}
