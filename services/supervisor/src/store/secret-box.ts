import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { TakoError } from "@tako/errors";

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM with a host-local 32-byte key file (mode 0600). Blobs are nonce ‖ tag ‖ ciphertext;
 * the additional data binds a blob to its row, so a blob copied to another app does not decrypt.
 */
export class SecretBox {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /** Opens the key file, creating it (exclusively, 0600) on first use. */
  static open(keyPath: string): SecretBox {
    try {
      writeFileSync(keyPath, randomBytes(KEY_BYTES), { flag: "wx", mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const key = readFileSync(keyPath);
    if (key.length !== KEY_BYTES) {
      throw new TakoError(
        "CONFIG_INVALID",
        `the supervisor's key file is damaged (${key.length} bytes, expected ${KEY_BYTES})`,
        {
          hint: "Restore the key file from a backup; without it stored secrets cannot be read.",
        },
      );
    }
    return new SecretBox(key);
  }

  seal(plaintext: string, aad: string): Buffer {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, nonce);
    cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return Buffer.concat([nonce, cipher.getAuthTag(), body]);
  }

  open(blob: Buffer, aad: string): string {
    const nonce = blob.subarray(0, NONCE_BYTES);
    const tag = blob.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES);
    const decipher = createDecipheriv("aes-256-gcm", this.#key, nonce);
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(tag);
    return Buffer.concat([
      decipher.update(blob.subarray(NONCE_BYTES + TAG_BYTES)),
      decipher.final(),
    ]).toString("utf8");
  }
}
