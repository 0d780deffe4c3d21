import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { type ErrorKind, TakoError } from "@tako/errors";
import { ErrorDetailSchema } from "@tako/proto";

// The one place where TakoError meets Connect: handlers throw TakoError, the wire carries a
// Connect code plus a tako.v1.ErrorDetail, clients get a TakoError back with the same reason.

const CODE_OF_KIND: Record<ErrorKind, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  failed_precondition: Code.FailedPrecondition,
  aborted: Code.Aborted,
  resource_exhausted: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
  deadline_exceeded: Code.DeadlineExceeded,
  permission_denied: Code.PermissionDenied,
  unauthenticated: Code.Unauthenticated,
  unimplemented: Code.Unimplemented,
  canceled: Code.Canceled,
  internal: Code.Internal,
};

/** Reason for a Connect error that carries no ErrorDetail (raised by Connect itself or a peer). */
function reasonOfCode(code: Code) {
  switch (code) {
    case Code.InvalidArgument:
    case Code.OutOfRange:
      return "INVALID_ARGUMENT" as const;
    case Code.NotFound:
      return "NOT_FOUND" as const;
    case Code.ResourceExhausted:
      return "REQUEST_TOO_LARGE" as const;
    case Code.DeadlineExceeded:
      return "DEADLINE_EXCEEDED" as const;
    case Code.Unavailable:
      return "UNAVAILABLE" as const;
    case Code.Unimplemented:
      return "UNIMPLEMENTED" as const;
    case Code.Canceled:
      return "CANCELED" as const;
    default:
      return "INTERNAL" as const;
  }
}

export interface ErrorLogger {
  error(msg: string, fields: Record<string, unknown>): void;
}

/**
 * Converts anything a handler threw into a ConnectError fit for the wire. A TakoError keeps its
 * message and reason; anything else is a bug: it is logged with its stack and the client only
 * learns that an internal error happened.
 */
export function toConnectError(err: unknown, procedure: string, log?: ErrorLogger): ConnectError {
  if (TakoError.is(err)) {
    return new ConnectError(err.message, CODE_OF_KIND[err.kind], undefined, [
      {
        desc: ErrorDetailSchema,
        value: { reason: err.reason, metadata: { ...err.metadata }, hint: err.hint },
      },
    ]);
  }
  if (err instanceof ConnectError) return err;
  log?.error("handler failed", {
    procedure,
    error: err instanceof Error ? err.message : String(err),
    stack: err instanceof Error ? err.stack : undefined,
  });
  return new ConnectError("internal error", Code.Internal, undefined, [
    { desc: ErrorDetailSchema, value: { reason: "INTERNAL", metadata: {}, hint: "" } },
  ]);
}

/** Rebuilds the TakoError a daemon sent, or classifies a transport failure. */
export function fromConnectError(err: unknown): TakoError {
  if (TakoError.is(err)) return err;
  const ce = ConnectError.from(err);
  const [detail] = ce.findDetails(ErrorDetailSchema);
  if (detail) return TakoError.fromWire(detail.reason, ce.rawMessage, detail.metadata, detail.hint, ce);
  return new TakoError(reasonOfCode(ce.code), ce.rawMessage, { cause: ce });
}

async function* mapStreamErrors<T>(
  stream: AsyncIterable<T>,
  map: (err: unknown) => Error,
): AsyncGenerator<T, void, undefined> {
  try {
    yield* stream;
  } catch (err) {
    throw map(err);
  }
}

/** Server interceptor: every error leaving a handler, unary or mid-stream, goes through toConnectError. */
export function serverErrorInterceptor(log?: ErrorLogger): Interceptor {
  return (next) => async (req) => {
    const procedure = req.url;
    const map = (err: unknown) => toConnectError(err, procedure, log);
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: mapStreamErrors(res.message, map) };
    } catch (err) {
      throw map(err);
    }
  };
}
