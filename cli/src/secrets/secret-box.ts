import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

// One environment's secret values, sealed with AES-256-GCM under that environment's 32-byte key.
// A sealed value is base64(nonce(12) ‖ ciphertext ‖ tag(16)); the additional data binds it to
// its environment and name, so a value copied to another name or env does not decrypt.

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

export function newKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** 16 hex characters identifying a key (not secret: a hash of it). */
export function keyId(key: Buffer): string {
  return createHash("sha256").update("tako-secrets-key-id:").update(key).digest("hex").slice(0, 16);
}

function additionalData(env: string, name: string): Buffer {
  return Buffer.from(`tako-secrets-v1\0${env}\0${name}`);
}

export function seal(key: Buffer, env: string, name: string, value: string): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(additionalData(env, name));
  const body = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64");
}

/** The plaintext, or undefined when the value was not sealed with this key for this env and name. */
export function open(key: Buffer, env: string, name: string, sealed: string): string | undefined {
  const raw = Buffer.from(sealed, "base64");
  if (raw.length < NONCE_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, NONCE_BYTES));
    decipher.setAAD(additionalData(env, name));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)),
      decipher.final(),
    ]).toString("utf8");
  } catch {
    return undefined;
  }
}
