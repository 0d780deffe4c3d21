import { closeSync, constants, openSync } from "node:fs";
import { Socket } from "node:net";
import { LineSplitter } from "./line-splitter.js";

export type OutputStream = "out" | "err";

/**
 * The reading end of an app process's stdout or stderr. Output goes through a named pipe (FIFO)
 * rather than an anonymous pipe so that it outlives this supervisor process: after a reload the
 * successor opens the same FIFO by path and keeps reading, and the app never sees a broken pipe.
 * EOF means every writer closed it: the process (and anything it forked) exited.
 */
export class OutputPipe {
  readonly path: string;
  readonly #socket: Socket;
  readonly #splitter = new LineSplitter();
  #closed = false;

  /**
   * Opens the FIFO at `path` for reading without blocking. The caller must make sure a writer
   * holds it open (the app, or the write end it is about to hand to a new app), or EOF comes at once.
   */
  constructor(path: string, onLine: (text: string) => void, onEnd: () => void) {
    this.path = path;
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    this.#socket = new Socket({ fd, readable: true, writable: false });
    this.#socket.on("data", (chunk: Buffer) => {
      for (const line of this.#splitter.push(chunk)) onLine(line);
    });
    this.#socket.on("error", () => undefined); // a read error ends the pipe like EOF
    this.#socket.once("close", () => {
      for (const line of this.#splitter.flush()) onLine(line);
      if (!this.#closed) onEnd();
      this.#closed = true;
    });
  }

  /** Opens the FIFO's write end to hand to a new process (blocking open: a reader exists). */
  static openWriter(path: string): number {
    return openSync(path, constants.O_WRONLY);
  }

  static closeWriter(fd: number): void {
    closeSync(fd);
  }

  /** Stops reading without signalling EOF (the process is handed to a successor or gone). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
  }
}
