// Per-process state of an app instance. The server entrypoint fills it in from the bootstrap
// envelope (fd 3) before the app's entry module is imported, so app code sees it from its first
// line. The entrypoint and the app share this module instance: the app's `tako.sh` resolves to
// the same file (same realpath) as the entrypoint's relative import.

export interface RuntimeState {
  /** Secrets from the envelope, frozen; empty outside a Tako instance. */
  secrets: Readonly<Record<string, string>>;
  /** Storage bindings from the envelope (name → binding settings). */
  storages: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** 8-char id of this instance; "" outside a Tako instance. */
  instanceId: string;
  /** Release version this instance runs. */
  version: string;
  /** Loopback port the server listens on; 0 until it listens. */
  port: number;
}

export const runtimeState: RuntimeState = {
  secrets: Object.freeze({}),
  storages: Object.freeze({}),
  instanceId: "",
  version: "",
  port: 0,
};
