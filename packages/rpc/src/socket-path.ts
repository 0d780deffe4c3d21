import { TakoError } from "@tako/errors";

/**
 * sun_path is 108 bytes on Linux including the terminating NUL. Node 20 silently truncates a
 * longer path and listens on the truncated name, which then fails with EADDRINUSE on the next
 * run, so every socket path is checked here first.
 */
export const MAX_SOCKET_PATH_BYTES = 107;

export function assertSocketPath(socketPath: string): void {
  const bytes = Buffer.byteLength(socketPath);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new TakoError(
      "SOCKET_PATH_TOO_LONG",
      `socket path is ${bytes} bytes long; the kernel allows at most ${MAX_SOCKET_PATH_BYTES}: ${socketPath}`,
      { metadata: { bytes: String(bytes) } },
    );
  }
}
