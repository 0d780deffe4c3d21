import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TakoError } from "@tako/errors";
import { nameProblem, variableProblem } from "../config/names.js";
import { KEY_BYTES, keyId, newKey, open, seal } from "./secret-box.js";

// .tako/secrets.json (safe to commit: values are encrypted) holds, per environment, the id of
// the key the values are sealed with and the sealed values. Keys live in .tako/keys/<env>
// (base64, mode 0600, never committed: `tako init` ignores .tako/ except secrets.json).

interface EnvSecretsFile {
  key_id: string;
  app: Record<string, { value: string }>;
}
type SecretsFile = Record<string, EnvSecretsFile>;

export class SecretsStore {
  readonly appDir: string;
  readonly file: string;
  readonly #data: SecretsFile;

  private constructor(appDir: string, data: SecretsFile) {
    this.appDir = appDir;
    this.file = join(appDir, ".tako/secrets.json");
    this.#data = data;
  }

  static async load(appDir: string): Promise<SecretsStore> {
    const file = join(appDir, ".tako/secrets.json");
    const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return "{}";
      throw err;
    });
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new TakoError("SECRETS_INVALID", `${file} is not valid JSON: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return new SecretsStore(appDir, validate(file, data));
  }

  envs(): string[] {
    return Object.keys(this.#data).sort();
  }

  names(env: string): string[] {
    return Object.keys(this.#data[env]?.app ?? {}).sort();
  }

  keyPath(env: string): string {
    return join(this.appDir, ".tako/keys", env);
  }

  /** Every secret of `env`, decrypted; {} when it has none. */
  async decrypt(env: string): Promise<Record<string, string>> {
    const entry = this.#data[env];
    if (!entry || Object.keys(entry.app).length === 0) return {};
    const key = await this.#readKey(env, entry.key_id);
    const values: Record<string, string> = {};
    for (const [name, { value }] of Object.entries(entry.app)) {
      const plain = open(key, env, name, value);
      if (plain === undefined) {
        throw new TakoError(
          "SECRETS_INVALID",
          `the secret ${name} of ${env} in ${this.file} does not decrypt with ${this.keyPath(env)}`,
          {
            metadata: { env, secret: name },
            hint: `Set it again with \`tako secrets set ${name} --env ${env}\`.`,
          },
        );
      }
      values[name] = plain;
    }
    return values;
  }

  /** Seals and stores one secret (creating the env's key on first use); call save() after. */
  async set(env: string, name: string, value: string): Promise<void> {
    const bad = nameProblem(env, "environment name") ?? variableProblem("secrets", name, value);
    if (bad)
      throw new TakoError("SECRETS_INVALID", bad, {
        hint: "For example: tako secrets set DATABASE_URL --env production",
      });
    let entry = this.#data[env];
    let key: Buffer;
    if (entry && Object.keys(entry.app).length > 0) key = await this.#readKey(env, entry.key_id);
    else {
      key = (await this.#readKey(env, undefined).catch(() => undefined)) ?? (await this.#createKey(env));
      entry = { key_id: keyId(key), app: {} };
      this.#data[env] = entry;
    }
    entry.app[name] = { value: seal(key, env, name, value) };
  }

  /** Removes a secret; false when there was none. Call save() after. */
  remove(env: string, name: string): boolean {
    const entry = this.#data[env];
    if (!entry?.app[name]) return false;
    delete entry.app[name];
    return true;
  }

  /** Writes secrets.json atomically, envs and names sorted. */
  async save(): Promise<void> {
    const sorted: SecretsFile = {};
    for (const env of this.envs()) {
      const entry = this.#data[env];
      if (!entry) continue;
      const app: EnvSecretsFile["app"] = {};
      for (const name of Object.keys(entry.app).sort()) app[name] = entry.app[name] as { value: string };
      sorted[env] = { key_id: entry.key_id, app };
    }
    await mkdir(join(this.appDir, ".tako"), { recursive: true });
    const tmp = `${this.file}.${randomBytes(4).toString("hex")}.tmp`;
    await writeFile(tmp, `${JSON.stringify(sorted, null, 2)}\n`);
    await rename(tmp, this.file);
  }

  async #readKey(env: string, expectedId: string | undefined): Promise<Buffer> {
    const path = this.keyPath(env);
    const text = await readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
      throw new TakoError(
        "SECRETS_KEY_MISSING",
        `the secrets of ${env} are encrypted with a key this machine does not have (${path}: ${err.code ?? err.message})`,
        {
          metadata: { env },
          hint: `Copy the key file .tako/keys/${env} from a teammate's checkout (it is never committed), or remove .tako/secrets.json's "${env}" entry and set the secrets again.`,
        },
      );
    });
    const key = Buffer.from(text.trim(), "base64");
    if (key.length !== KEY_BYTES) {
      throw new TakoError("SECRETS_INVALID", `${path} is not a ${KEY_BYTES}-byte base64 key`, {
        hint: `Restore .tako/keys/${env} from a teammate's checkout.`,
      });
    }
    if (expectedId && keyId(key) !== expectedId) {
      throw new TakoError(
        "SECRETS_KEY_MISSING",
        `${path} is not the key the secrets of ${env} were encrypted with (key id ${expectedId})`,
        {
          metadata: { env },
          hint: `Copy the right .tako/keys/${env} from a teammate's checkout.`,
        },
      );
    }
    return key;
  }

  async #createKey(env: string): Promise<Buffer> {
    const key = newKey();
    await mkdir(join(this.appDir, ".tako/keys"), { recursive: true, mode: 0o700 });
    await writeFile(this.keyPath(env), `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
    return key;
  }
}

function validate(file: string, data: unknown): SecretsFile {
  const fail = (why: string) =>
    new TakoError("SECRETS_INVALID", `${file}: ${why}`, {
      hint: "Restore the file from git, or set the secrets again.",
    });
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw fail("expected an object of environments");
  const out: SecretsFile = {};
  for (const [env, entry] of Object.entries(data)) {
    const e = entry as Partial<EnvSecretsFile> | null;
    if (
      typeof e !== "object" ||
      e === null ||
      typeof e.key_id !== "string" ||
      typeof e.app !== "object" ||
      e.app === null
    ) {
      throw fail(`"${env}" must be {"key_id": "…", "app": {…}}`);
    }
    const app: EnvSecretsFile["app"] = {};
    for (const [name, v] of Object.entries(e.app)) {
      if (typeof v !== "object" || v === null || typeof (v as { value?: unknown }).value !== "string") {
        throw fail(`"${env}.app.${name}" must be {"value": "<encrypted>"}`);
      }
      app[name] = { value: (v as { value: string }).value };
    }
    out[env] = { key_id: e.key_id, app };
  }
  return out;
}
