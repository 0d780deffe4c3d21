import { randomBytes } from "node:crypto";
import { dirname } from "node:path";
import type { Release } from "../release.js";

// The app side of the contract, as data: the environment an instance starts with and the
// bootstrap envelope it reads from fd 3. Secrets appear only in the envelope.

const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

function randomString(length: number, alphabet: string): string {
  const bytes = randomBytes(length);
  let out = "";
  // The token alphabet (64 symbols) divides 256 exactly: no bias. For ids (36 symbols) the
  // modulo bias is negligible; they only need to be unique on a host.
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/** 8-character instance id, unique per host in practice. */
export function newInstanceId(): string {
  return randomString(8, ID_ALPHABET);
}

/** 32-character per-instance token for the health probe (192 bits). */
export function newToken(): string {
  return randomString(32, TOKEN_ALPHABET);
}

export interface InstanceEnvOptions {
  readonly dataDir: string;
  readonly internalSocket: string;
}

/**
 * The complete environment of an app process: the release's variables, then the contract
 * (which a variable cannot override): ENV, NODE_ENV=production, HOST=127.0.0.1, PORT=0,
 * TAKO_APP_NAME, TAKO_INTERNAL_SOCKET, TAKO_DATA_DIR, TAKO_BUILD (the release version; all of
 * them @tako/appspec's RESERVED_VARS), and PATH (node's own directory first). Nothing is
 * inherited from the supervisor.
 */
export function instanceEnv(release: Release, options: InstanceEnvOptions): Record<string, string> {
  return {
    ...release.vars,
    PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    ENV: release.env,
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: "0",
    TAKO_APP_NAME: release.app,
    TAKO_INTERNAL_SOCKET: options.internalSocket,
    TAKO_DATA_DIR: options.dataDir,
    TAKO_BUILD: release.version,
  };
}

/** The JSON document written to fd 3, then EOF. */
export function bootstrapEnvelope(options: {
  token: string;
  instanceId: string;
  version: string;
  secrets: Readonly<Record<string, string>>;
}): string {
  return JSON.stringify({
    token: options.token,
    instance_id: options.instanceId,
    version: options.version,
    secrets: options.secrets,
    storages: {},
  });
}
