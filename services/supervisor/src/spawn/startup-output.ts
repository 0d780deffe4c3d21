import type { OutputStream } from "./output-pipe.js";

/** Most output kept for a startup failure message (the tail, where the error usually is). */
export const STARTUP_OUTPUT_BYTES = 4096;

/** Collects what a starting process prints, so a failed start can say why. */
export class StartupOutput {
  #lines: { stream: OutputStream; text: string }[] = [];
  #bytes = 0;
  #stopped = false;

  add(stream: OutputStream, text: string): void {
    if (this.#stopped) return;
    this.#lines.push({ stream, text });
    this.#bytes += text.length + 1;
    while (this.#bytes > STARTUP_OUTPUT_BYTES && this.#lines.length > 1) {
      const dropped = this.#lines.shift();
      this.#bytes -= (dropped?.text.length ?? 0) + 1;
    }
  }

  /** Stops collecting (the process started; its output goes to the log only). */
  stop(): void {
    this.#stopped = true;
    this.#lines = [];
  }

  /** The collected output, stderr lines prefixed, or a note that there was none. */
  text(): string {
    if (this.#lines.length === 0) return "(the app printed nothing)";
    const text = this.#lines.map((l) => (l.stream === "err" ? l.text : `[stdout] ${l.text}`)).join("\n");
    return text.length > STARTUP_OUTPUT_BYTES ? `…${text.slice(-STARTUP_OUTPUT_BYTES)}` : text;
  }
}
