import { runtimeState } from "./runtime/state.js";

/**
 * What an app knows about the instance it runs in. Safe to import anywhere: outside a Tako
 * instance the secrets are empty and the port is 0. Secrets come from the bootstrap envelope on
 * fd 3, never from the environment.
 */
export const tako = Object.freeze({
  /** The app's secrets for this environment (read-only). */
  get secrets(): Readonly<Record<string, string>> {
    return runtimeState.secrets;
  },
  /** Storage bindings of this environment (read-only). */
  get storages(): Readonly<Record<string, Readonly<Record<string, string>>>> {
    return runtimeState.storages;
  },
  /** The environment name (`ENV`), e.g. "production". */
  get env(): string {
    return process.env.ENV ?? "development";
  },
  get isProd(): boolean {
    return (process.env.ENV ?? "") === "production";
  },
  /** The app's name (`TAKO_APP_NAME`). */
  get appName(): string {
    return process.env.TAKO_APP_NAME ?? "";
  },
  /** Release version of this instance. */
  get build(): string {
    return runtimeState.version;
  },
  /** Id of this instance, unique on its host. */
  get instanceId(): string {
    return runtimeState.instanceId;
  },
  /** Directory the app owns for its data (`TAKO_DATA_DIR`). */
  get dataDir(): string {
    return process.env.TAKO_DATA_DIR ?? "";
  },
  /** Address and port the server listens on (loopback; the port is 0 until it listens). */
  get host(): string {
    return process.env.HOST ?? "127.0.0.1";
  },
  get port(): number {
    return runtimeState.port;
  },
});
