import { TakoError } from "@tako/errors";
import type { ServerOutcome } from "../remote/server-connection.js";
import { type Terminal, toTakoError } from "./terminal.js";

/**
 * Prints one line per server ("✓ web-1: …" / "✗ web-2: …") and the JSON result; when any server
 * failed, throws an error naming them (the command exits 1).
 */
export function reportOutcomes<T>(
  term: Terminal,
  outcomes: readonly ServerOutcome<T>[],
  describe: (value: T) => string,
  toJson: (value: T) => unknown = (v) => v,
  extra: Readonly<Record<string, unknown>> = {},
): void {
  const lines = outcomes.map((o) =>
    o.ok ? `✓ ${o.server}: ${describe(o.value)}` : `✗ ${o.server}: ${toTakoError(o.error).message}`,
  );
  const failed = outcomes.filter((o) => !o.ok);
  const json = {
    ok: failed.length === 0,
    ...extra,
    servers: outcomes.map((o) =>
      o.ok
        ? { server: o.server, ok: true, result: toJson(o.value) }
        : { server: o.server, ok: false, error: errorJson(o.error) },
    ),
  };
  if (failed.length === 0) {
    term.result(lines.join("\n"), json);
    return;
  }
  term.setFailureDetails(json);
  // With one server the error below says it all; with several, every server's line matters.
  if (!term.mode.json && outcomes.length > 1) term.info(lines.join("\n"));
  const first = toTakoError(failed[0]?.ok === false ? failed[0].error : undefined);
  throw new TakoError(
    first.reason,
    failed.length === 1
      ? `${failed[0]?.server}: ${first.message}`
      : `${failed.length} of ${outcomes.length} servers failed (see above)`,
    { hint: first.hint, metadata: { servers: failed.map((f) => f.server).join(",") } },
  );
}

export function errorJson(error: unknown) {
  const e = toTakoError(error);
  return { reason: e.reason, message: e.message, hint: e.hint };
}
