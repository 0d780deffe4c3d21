import { closeSync, fstatSync, readSync } from "node:fs";

/** The bootstrap envelope the supervisor writes to fd 3 (one JSON document, then EOF). */
export interface Bootstrap {
  /** Per-instance token the health probe carries; never shown to app code. */
  readonly token: string;
  readonly instanceId: string;
  readonly version: string;
  readonly secrets: Readonly<Record<string, string>>;
  readonly storages: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** Largest envelope accepted: secrets are small; anything bigger is not from the supervisor. */
export const MAX_BOOTSTRAP_BYTES = 4 * 1024 * 1024;
const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

export class BootstrapError extends Error {
  override readonly name = "BootstrapError";
}

/**
 * Whether `fd` is a pipe or socket handed to us. Without one, Node's own descriptors take the
 * low numbers (fd 3 is its epoll instance): reading or closing those would break the process,
 * so anything else is refused.
 */
export function isHandedPipe(fd: number): boolean {
  try {
    // bigint: a plain fstat of a socket or FIFO leaves Node 20's shared stat array saying
    // "socket", and the module resolver's realpath then stops following symlinks
    // (nodejs/node#51142): the app's `tako.sh` would load as a second copy without the secrets.
    const st = fstatSync(fd, { bigint: true });
    return st.isSocket() || st.isFIFO();
  } catch {
    return false;
  }
}

/**
 * Reads fd 3 to EOF. Blocking on purpose: nothing else can happen before the envelope is known,
 * and the supervisor writes it right after spawning.
 */
export function readBootstrapFd(fd = 3): string {
  if (!isHandedPipe(fd)) {
    throw new BootstrapError(`fd ${fd} is not open: this entrypoint must be started by the Tako supervisor`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.allocUnsafe(64 * 1024);
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > MAX_BOOTSTRAP_BYTES)
        throw new BootstrapError(`the envelope exceeds ${MAX_BOOTSTRAP_BYTES} bytes`);
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
  } catch (err) {
    if (err instanceof BootstrapError) throw err;
    throw new BootstrapError(
      `cannot read fd ${fd} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  } finally {
    try {
      closeSync(fd);
    } catch {
      // not open
    }
  }
  return Buffer.concat(chunks).toString("utf8");
}

function stringMap(value: unknown, what: string): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BootstrapError(`"${what}" must be an object of strings`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") throw new BootstrapError(`"${what}.${k}" must be a string`);
    out[k] = v;
  }
  return out;
}

/** Validates the envelope's shape; a malformed envelope is refused with what is wrong. */
export function parseBootstrap(text: string): Bootstrap {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BootstrapError("the envelope on fd 3 is not JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new BootstrapError("the envelope on fd 3 must be a JSON object");
  }
  const o = raw as Record<string, unknown>;
  if (typeof o.token !== "string" || !TOKEN.test(o.token)) {
    throw new BootstrapError('"token" must be 16-128 characters of [A-Za-z0-9_-]');
  }
  if (typeof o.instance_id !== "string") throw new BootstrapError('"instance_id" must be a string');
  if (typeof o.version !== "string") throw new BootstrapError('"version" must be a string');
  const storagesRaw = o.storages ?? {};
  if (typeof storagesRaw !== "object" || storagesRaw === null || Array.isArray(storagesRaw)) {
    throw new BootstrapError('"storages" must be an object');
  }
  const storages: Record<string, Readonly<Record<string, string>>> = {};
  for (const [name, binding] of Object.entries(storagesRaw)) {
    storages[name] = Object.freeze(stringMap(binding, `storages.${name}`));
  }
  return {
    token: o.token,
    instanceId: o.instance_id,
    version: o.version,
    secrets: Object.freeze(stringMap(o.secrets ?? {}, "secrets")),
    storages: Object.freeze(storages),
  };
}
