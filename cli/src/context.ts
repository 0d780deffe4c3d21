import type { ArgumentsCamelCase } from "yargs";
import { Terminal } from "./output/terminal.js";
import { type SshSettings, sshSettings } from "./remote/server-connection.js";

/** Options every command accepts. */
export interface GlobalArgs {
  readonly json: boolean;
  readonly ci: boolean;
  readonly verbose: boolean;
  readonly dryRun: boolean;
  readonly config: string | undefined;
  /** --ssh-key: the private key for every SSH login, exclusively. */
  readonly sshKey: string | undefined;
}

/** Everything a command needs from the global flags. */
export function sshFrom(args: GlobalArgs, term: Terminal): SshSettings {
  return sshSettings({ sshKey: args.sshKey }, (text) => term.debug(text));
}

export function terminalFor(args: GlobalArgs): Terminal {
  return new Terminal({ json: args.json, ci: args.ci, verbose: args.verbose });
}

/**
 * Wraps a command body: builds the terminal from the global flags and turns any failure into an
 * error report (what happened, what to do next) and exit code 1.
 */
export function handle<A>(body: (args: ArgumentsCamelCase<A & GlobalArgs>, term: Terminal) => Promise<void>) {
  return async (args: ArgumentsCamelCase<A & GlobalArgs>): Promise<void> => {
    const term = terminalFor(args);
    try {
      await body(args, term);
    } catch (err) {
      term.error(err);
      process.exitCode = 1;
    }
  };
}
