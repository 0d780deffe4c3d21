import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { TakoError } from "@tako/errors";

/** Largest artifact a host accepts. */
export const MAX_ARTIFACT_BYTES = 1024 ** 3;
/** Largest single chunk of a Deploy stream. */
export const MAX_CHUNK_BYTES = 1024 * 1024 + 64 * 1024;

export interface UploadTarget {
  readonly dir: string;
  readonly version: string;
  readonly sizeBytes: number;
  readonly sha256: string;
}

/**
 * Receives an artifact from a stream of chunks into a private temporary file and checks its size
 * and SHA-256 before anyone reads it. On any failure the file is removed. `next` returns the next
 * chunk, or undefined if the client stopped sending.
 */
export async function receiveArtifact(
  target: UploadTarget,
  next: () => Promise<Uint8Array | undefined>,
): Promise<string> {
  if (target.sizeBytes <= 0 || target.sizeBytes > MAX_ARTIFACT_BYTES) {
    throw new TakoError(
      "ARTIFACT_REJECTED",
      `artifact size ${target.sizeBytes} bytes is not between 1 byte and ${MAX_ARTIFACT_BYTES} bytes`,
    );
  }
  if (!/^[0-9a-f]{64}$/.test(target.sha256)) {
    throw new TakoError("INVALID_ARGUMENT", "artifact_sha256 must be 64 lowercase hex digits");
  }
  await mkdir(target.dir, { recursive: true, mode: 0o700 });
  const file = join(target.dir, `${target.version}.${randomBytes(6).toString("hex")}.tgz`);
  const handle = await open(file, "wx", 0o600);
  const hash = createHash("sha256");
  let received = 0;
  try {
    while (received < target.sizeBytes) {
      const chunk = await next();
      if (!chunk) {
        throw new TakoError(
          "ARTIFACT_REJECTED",
          `the artifact stopped after ${received} of ${target.sizeBytes} bytes`,
          {
            hint: "Check the connection to the server and deploy again.",
          },
        );
      }
      if (chunk.length > MAX_CHUNK_BYTES)
        throw new TakoError("REQUEST_TOO_LARGE", `artifact chunk of ${chunk.length} bytes is over the limit`);
      received += chunk.length;
      if (received > target.sizeBytes) {
        throw new TakoError(
          "ARTIFACT_REJECTED",
          `more artifact bytes arrived than the ${target.sizeBytes} announced`,
        );
      }
      hash.update(chunk);
      await handle.write(chunk);
    }
    await handle.sync();
    const actual = hash.digest("hex");
    if (actual !== target.sha256) {
      throw new TakoError(
        "ARTIFACT_REJECTED",
        `the artifact's SHA-256 is ${actual}, not the ${target.sha256} announced`,
        {
          hint: "The upload was corrupted; deploy again.",
        },
      );
    }
    return file;
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(file, { force: true });
    throw err;
  } finally {
    await handle.close().catch(() => undefined);
  }
}
