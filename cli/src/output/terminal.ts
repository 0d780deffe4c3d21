import type { Writable } from "node:stream";
import { TakoError } from "@tako/errors";

// The one module that writes to the terminal. Human output and progress go to stderr; results
// (and everything under --json) go to stdout, so `tako … --json | jq` always works. Spinners only
// on a TTY and never with --ci, which is plain and deterministic.

export interface OutputMode {
  readonly json: boolean;
  readonly ci: boolean;
  readonly verbose: boolean;
}

export interface TerminalStreams {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export interface Progress {
  /** Updates the line in place (TTY) or prints it (otherwise, only when it changed). */
  update(text: string): void;
  /** Prints a permanent line above the progress line (e.g. a step that finished). */
  log(text: string): void;
  /** Ends the progress line with a final message. */
  done(text: string): void;
  fail(text: string): void;
}

export class Terminal {
  readonly mode: OutputMode;
  readonly #out: TerminalStreams;
  #failureDetails: Readonly<Record<string, unknown>> = {};

  constructor(
    mode: OutputMode,
    streams: TerminalStreams = { stdout: process.stdout, stderr: process.stderr },
  ) {
    this.mode = mode;
    this.#out = streams;
  }

  get #fancy(): boolean {
    return !this.mode.ci && !this.mode.json && this.#out.stderr.isTTY === true;
  }

  /** A line for the human reading along (stderr); silent under --json. */
  info(text: string): void {
    if (!this.mode.json) this.#out.stderr.write(`${text}\n`);
  }

  /** Only with --verbose. */
  debug(text: string): void {
    if (this.mode.verbose && !this.mode.json) this.#out.stderr.write(`${text}\n`);
  }

  warn(text: string): void {
    this.#out.stderr.write(`Warning: ${text}\n`);
  }

  /** The command's result: human text, or the JSON value under --json (stdout either way). */
  result(human: string, json: unknown): void {
    if (this.mode.json) this.#out.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    else if (human) this.#out.stdout.write(human.endsWith("\n") ? human : `${human}\n`);
  }

  /** Extra fields for the --json object printed if the command then fails (e.g. per-server results). */
  setFailureDetails(details: Readonly<Record<string, unknown>>): void {
    this.#failureDetails = details;
  }

  /**
   * Reports a failure: what happened and, on its own line, what to do next. Under --json the
   * error also goes to stdout as {"ok":false,"error":{…}} so scripts can read it.
   */
  error(err: unknown): void {
    const e = toTakoError(err);
    this.#out.stderr.write(`Error: ${e.message}\n  → ${e.hint}\n`);
    if (this.mode.json) {
      this.#out.stdout.write(
        `${JSON.stringify({ ...this.#failureDetails, ok: false, error: { reason: e.reason, message: e.message, hint: e.hint, metadata: e.metadata } }, null, 2)}\n`,
      );
    }
  }

  progress(initial: string): Progress {
    const err = this.#out.stderr;
    if (this.mode.json) {
      return { update: () => undefined, log: () => undefined, done: () => undefined, fail: () => undefined };
    }
    if (!this.#fancy) {
      let last = "";
      const print = (text: string) => {
        if (text !== last) err.write(`${text}\n`);
        last = text;
      };
      print(initial);
      return { update: print, log: (t) => err.write(`${t}\n`), done: (t) => print(t), fail: (t) => print(t) };
    }
    let text = initial;
    let frame = 0;
    const draw = () => err.write(`\r\x1b[2K${SPINNER[frame++ % SPINNER.length]} ${text}`);
    draw();
    const timer = setInterval(draw, 80);
    const end = (mark: string, final: string) => {
      clearInterval(timer);
      err.write(`\r\x1b[2K${mark} ${final}\n`);
    };
    return {
      update: (t) => {
        text = t;
      },
      log: (t) => {
        err.write(`\r\x1b[2K${t}\n`);
        draw();
      },
      done: (t) => end("✓", t),
      fail: (t) => end("✗", t),
    };
  }
}

export function toTakoError(err: unknown): TakoError {
  if (TakoError.is(err)) return err;
  return new TakoError("INTERNAL", err instanceof Error ? err.message : String(err), { cause: err });
}
