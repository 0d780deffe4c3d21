import { closeSync, writeSync } from "node:fs";

/**
 * Tells the supervisor the instance is ready: the bound port and a newline on fd 4, then the fd
 * is closed (EOF without a port means "failed to start").
 */
export function reportReady(port: number, fd = 4): void {
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
