import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { TakoError } from "@tako/errors";
import ssh2, { type AgentAuthMethod, type ClientChannel, type PublicKeyAuthMethod } from "ssh2";
import {
  fingerprint,
  type HostKeyVerdict,
  keyTypeOf,
  knownHostsName,
  parseKnownHosts,
  preferredHostKeyTypes,
  verifyHostKey,
} from "./known-hosts.js";

/** Where to log in: a server of the global config, or the target of `tako servers add`. */
export interface SshTarget {
  /** Server name, for messages. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Private key to use exclusively (--ssh-key or the server's ssh_key). */
  readonly sshKey?: string | undefined;
}

export interface SshClientOptions {
  /** The user's home: ~/.ssh/known_hosts and the default keys live there. */
  readonly home: string;
  /** ssh-agent socket (SSH_AUTH_SOCK); tried after the key files. */
  readonly agentSocket?: string | undefined;
  /** Passphrase for encrypted keys (TAKO_SSH_PASSPHRASE). */
  readonly passphrase?: string | undefined;
  readonly readyTimeoutMs?: number;
  /** Called with each identity tried, for --verbose. */
  readonly debug?: (text: string) => void;
}

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

// ssh2 is CommonJS: its named exports are only reachable through the default export.
const { Client, utils } = ssh2;
type Client = InstanceType<typeof Client>;

const DEFAULT_KEYS = ["id_ed25519", "id_ecdsa", "id_rsa"];
const MAX_CAPTURE_BYTES = 4 << 20;

/** Quotes a string for a POSIX shell. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * One authenticated SSH connection to a server whose host key known_hosts trusts. Commands run
 * with exec; the management socket is reached with forwarded Unix-socket streams.
 */
export class SshSession {
  readonly target: SshTarget;
  readonly #conn: Client;
  #closed = false;

  private constructor(target: SshTarget, conn: Client) {
    this.target = target;
    this.#conn = conn;
  }

  static async connect(target: SshTarget, options: SshClientOptions): Promise<SshSession> {
    const knownHosts = await loadKnownHosts(options.home);
    const name = knownHostsName(target.host, target.port);
    const identities = await findIdentities(target, options);
    const conn = new Client();
    let verdict: HostKeyVerdict | undefined;
    let offered: Buffer | undefined;
    const queue: (PublicKeyAuthMethod | AgentAuthMethod)[] = [
      ...identities.keys.map(
        (k): PublicKeyAuthMethod => ({
          type: "publickey",
          username: target.user,
          key: k.key,
          ...(options.passphrase ? { passphrase: options.passphrase } : {}),
        }),
      ),
      ...(identities.agent
        ? [{ type: "agent" as const, username: target.user, agent: identities.agent }]
        : []),
    ];
    const ready = new Promise<void>((resolve, reject) => {
      conn.once("ready", () => resolve());
      conn.once("error", reject);
    });
    conn.connect({
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout: options.readyTimeoutMs ?? 30_000,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
      algorithms: { serverHostKey: preferredHostKeyTypes(knownHosts, name) as never },
      hostVerifier: (key: Buffer) => {
        offered = key;
        verdict = verifyHostKey(knownHosts, name, key);
        return verdict.status === "trusted";
      },
      authHandler: (_left, _partial, next) => {
        const method = queue.shift();
        if (method) options.debug?.(`ssh ${name}: trying ${describeMethod(method, identities)}`);
        next(method ?? (false as never));
      },
    });
    try {
      await ready;
    } catch (err) {
      conn.end();
      throw connectError(target, name, err, verdict, offered);
    }
    conn.setNoDelay(true); // without it each RPC waits ~40 ms on Nagle + delayed ACK
    const session = new SshSession(target, conn);
    conn.on("error", () => undefined); // late errors surface through the channels in use
    conn.on("close", () => {
      session.#closed = true;
    });
    return session;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs a shell command; stdin (when given) is streamed in, output is captured. */
  exec(command: string, options: { stdin?: Readable | Buffer | string } = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      this.#conn.exec(command, (err, channel) => {
        if (err) {
          reject(this.#channelError(`run a command on ${this.target.name}`, err));
          return;
        }
        const out = { chunks: [] as Buffer[], bytes: 0 };
        const errOut = { chunks: [] as Buffer[], bytes: 0 };
        const keep = (into: typeof out) => (data: Buffer) => {
          if (into.bytes < MAX_CAPTURE_BYTES) into.chunks.push(data);
          into.bytes += data.length;
        };
        let code: number | null = null;
        let signal: string | undefined;
        channel.on("data", keep(out));
        channel.stderr.on("data", keep(errOut));
        channel.on("exit", (exitCode: number | null, exitSignal?: string) => {
          code = exitCode;
          signal = exitSignal;
        });
        channel.on("close", () => {
          resolve({
            code: code ?? (signal ? 128 : 255),
            stdout: Buffer.concat(out.chunks).toString("utf8"),
            stderr: Buffer.concat(errOut.chunks).toString("utf8"),
          });
        });
        channel.on("error", (e: Error) =>
          reject(this.#channelError(`run a command on ${this.target.name}`, e)),
        );
        const input = options.stdin;
        if (input === undefined) channel.end();
        else if (typeof input === "string" || Buffer.isBuffer(input)) channel.end(input);
        else {
          input.on("error", () => channel.close());
          input.pipe(channel);
        }
      });
    });
  }

  /** Opens a byte stream to a Unix socket on the server (OpenSSH's direct-streamlocal). */
  openStreamLocal(socketPath: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      this.#conn.openssh_forwardOutStreamLocal(socketPath, (err, channel) => {
        if (err) reject(this.#channelError(`open ${socketPath} on ${this.target.name}`, err));
        else resolve(channel);
      });
    });
  }

  close(): void {
    this.#closed = true;
    this.#conn.end();
  }

  #channelError(what: string, err: Error): TakoError {
    return new TakoError("SSH_CONNECT_FAILED", `could not ${what}: ${err.message}`, {
      cause: err,
      metadata: { server: this.target.name },
      hint: "Check that the server's sshd allows forwarding to Unix sockets (AllowStreamLocalForwarding yes) and that Tako runs there.",
    });
  }
}

async function loadKnownHosts(home: string) {
  const files = [join(home, ".ssh/known_hosts"), "/etc/ssh/ssh_known_hosts"];
  const entries = [];
  for (const file of files) {
    const text = await readFile(file, "utf8").catch(() => "");
    entries.push(...parseKnownHosts(text, file));
  }
  return entries;
}

interface Identity {
  readonly path: string;
  readonly key: Buffer;
}

/** Keys to try, in order: the explicit one exclusively; else ~/.ssh defaults, then the agent. */
async function findIdentities(
  target: SshTarget,
  options: SshClientOptions,
): Promise<{ keys: Identity[]; agent: string | undefined }> {
  if (target.sshKey) {
    const key = await readFile(target.sshKey).catch((err: NodeJS.ErrnoException) => {
      throw new TakoError(
        "SSH_AUTH_FAILED",
        `cannot read the SSH key ${target.sshKey}: ${err.code ?? err.message}`,
        {
          hint: "Pass the path of a private key file with --ssh-key.",
        },
      );
    });
    return {
      keys: [{ path: target.sshKey, key: usableKey(target.sshKey, key, options.passphrase, true) ?? key }],
      agent: undefined,
    };
  }
  const keys: Identity[] = [];
  for (const name of DEFAULT_KEYS) {
    const path = join(options.home, ".ssh", name);
    const data = await readFile(path).catch(() => undefined);
    if (!data) continue;
    const key = usableKey(path, data, options.passphrase, false);
    if (key) keys.push({ path, key });
    else options.debug?.(`ssh: skipping ${path}: it is encrypted and TAKO_SSH_PASSPHRASE is not set`);
  }
  if (keys.length === 0 && !options.agentSocket) {
    throw new TakoError(
      "SSH_AUTH_FAILED",
      `no SSH key to log in to ${target.name}: none of ~/.ssh/{${DEFAULT_KEYS.join(",")}} exists and no ssh-agent runs (SSH_AUTH_SOCK)`,
      { hint: "Pass a key with --ssh-key <file>, or start ssh-agent and `ssh-add` your key." },
    );
  }
  return { keys, agent: options.agentSocket };
}

/**
 * The key as ssh2 takes it, decrypted with the passphrase when needed. An encrypted key without
 * a passphrase is skipped (undefined), or an error when the user named it explicitly.
 */
function usableKey(
  path: string,
  data: Buffer,
  passphrase: string | undefined,
  explicit: boolean,
): Buffer | undefined {
  const parsed = utils.parseKey(data, passphrase);
  if (!(parsed instanceof Error)) return data;
  const encrypted = /encrypted|passphrase/i.test(parsed.message);
  if (encrypted && !explicit) return undefined;
  throw new TakoError(
    "SSH_AUTH_FAILED",
    encrypted
      ? `the SSH key ${path} is encrypted`
      : `${path} is not a usable SSH private key: ${parsed.message}`,
    {
      hint: encrypted
        ? "Set TAKO_SSH_PASSPHRASE, or load the key into ssh-agent with `ssh-add` and drop --ssh-key."
        : "Pass an OpenSSH or PEM private key with --ssh-key.",
    },
  );
}

function describeMethod(method: PublicKeyAuthMethod | AgentAuthMethod, ids: { keys: Identity[] }): string {
  if (method.type === "agent") return "the ssh-agent";
  return `key ${ids.keys.find((k) => k.key === method.key)?.path ?? "?"}`;
}

function hostKeyFileType(type: string): string {
  if (type.includes("ed25519")) return "ed25519";
  return type.includes("ecdsa") ? "ecdsa" : "rsa";
}

function connectError(
  target: SshTarget,
  name: string,
  err: unknown,
  verdict: HostKeyVerdict | undefined,
  offered: Buffer | undefined,
): TakoError {
  const where = `${target.user}@${target.host}${target.port === 22 ? "" : ` port ${target.port}`}`;
  if (verdict && offered && verdict.status !== "trusted") {
    const type = keyTypeOf(offered);
    const line = `${name} ${type} ${offered.toString("base64")}`;
    const metadata = { server: target.name, fingerprint: fingerprint(offered) };
    if (verdict.status === "unknown") {
      return new TakoError(
        "SSH_HOST_KEY_UNKNOWN",
        `the host key of ${name} is not in ~/.ssh/known_hosts; refusing to connect. The server offers ${type} key ${fingerprint(offered)}`,
        {
          metadata,
          hint: `Compare that fingerprint with \`ssh-keygen -lf /etc/ssh/ssh_host_${hostKeyFileType(type)}_key.pub\` run on the server; if they match, trust it with:\n    echo '${line}' >> ~/.ssh/known_hosts`,
        },
      );
    }
    if (verdict.status === "changed") {
      const known = verdict.known.map((e) => `${e.file}:${e.line} (${e.keyType} ${fingerprint(e.keyBlob)})`);
      return new TakoError(
        "SSH_HOST_KEY_CHANGED",
        `the host key of ${name} has CHANGED: known_hosts has ${known.join(", ")}, the server now offers ${type} ${fingerprint(offered)}. Someone may be intercepting the connection; refusing to connect`,
        {
          metadata,
          hint: `If the server was reinstalled, check the new fingerprint on it, then run:\n    ssh-keygen -R '${name}'\n    echo '${line}' >> ~/.ssh/known_hosts`,
        },
      );
    }
    return new TakoError(
      "SSH_HOST_KEY_CHANGED",
      `the host key ${fingerprint(offered)} of ${name} is revoked in ${verdict.entry.file}:${verdict.entry.line}; refusing to connect`,
      {
        metadata,
        hint: "Ask the server's administrator for its current host key.",
      },
    );
  }
  const e = err as Error & { level?: string; code?: string };
  if (e.level === "client-authentication") {
    return new TakoError("SSH_AUTH_FAILED", `${where} refused every key offered (${e.message})`, {
      cause: err,
      metadata: { server: target.name },
    });
  }
  return new TakoError("SSH_CONNECT_FAILED", `cannot reach ${where} over SSH: ${e.code ?? e.message}`, {
    cause: err,
    metadata: { server: target.name },
  });
}
