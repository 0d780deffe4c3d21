import { type ErrorKind, isReason, REASONS, type Reason } from "./reasons.js";

export interface TakoErrorOptions {
  /** Machine-readable context: app, env, step, daemon… Never secrets, paths or SQL. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Overrides the registry's default next step. */
  readonly hint?: string;
  readonly cause?: unknown;
}

/**
 * The one error type of the project. `message` is user-facing: it says what happened in terms
 * the user knows (apps, releases, hosts), never internals. Internals go to `cause` and the logs.
 */
export class TakoError extends Error {
  override readonly name = "TakoError";
  readonly reason: Reason;
  readonly metadata: Readonly<Record<string, string>>;
  readonly hint: string;

  constructor(reason: Reason, message: string, options: TakoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.metadata = Object.freeze({ ...options.metadata });
    this.hint = options.hint ?? REASONS[reason].hint;
  }

  get kind(): ErrorKind {
    return REASONS[this.reason].kind;
  }

  /** True when `err` is a TakoError, with the given reason when one is passed. */
  static is(err: unknown, reason?: Reason): err is TakoError {
    return err instanceof TakoError && (reason === undefined || err.reason === reason);
  }

  /** Rebuilds an error received over the wire; unknown reasons become INTERNAL. */
  static fromWire(
    reason: string,
    message: string,
    metadata: Record<string, string>,
    hint: string,
    cause?: unknown,
  ): TakoError {
    const known = isReason(reason) ? reason : "INTERNAL";
    return new TakoError(known, message, { metadata, ...(hint ? { hint } : {}), cause });
  }
}
