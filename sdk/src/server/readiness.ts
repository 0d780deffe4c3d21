import { closeSync, writeSync } from "node:fs";
import { isHandedPipe } from "./bootstrap.js";

/**
 * Tells the supervisor the instance is ready: the bound port and a newline on fd 4, then the fd
 * is closed (EOF without a port means "failed to start").
 */
export function reportReady(port: number, fd = 4): void {
  if (!isHandedPipe(fd)) {
    throw new Error(`fd ${fd} is not open: this entrypoint must be started by the Tako supervisor`);
  }
  try {
    writeSync(fd, `${port}\n`);
  } finally {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}
