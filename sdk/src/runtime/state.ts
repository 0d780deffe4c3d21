// Per-process state of an app instance. The server entrypoint fills it in from the bootstrap
// envelope (fd 3) before the app's entry module is imported, so app code sees it from its first
// line. It lives on a global symbol rather than in this module's scope: the supervisor runs a
// bundled copy of the entrypoint (one file starts faster than a module graph), and the app's
// own `import … from "tako.sh"` loads this package; both must see one state.

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

const KEY = Symbol.for("tako.sh/runtime-state");
const holder = globalThis as { [KEY]?: RuntimeState };

if (!holder[KEY]) {
  holder[KEY] = {
    secrets: Object.freeze({}),
    storages: Object.freeze({}),
    instanceId: "",
    version: "",
    port: 0,
  };
}

export const runtimeState: RuntimeState = holder[KEY];
