import { join } from "node:path";

// A daemon listens on `<name>.<pid>.sock`; `<name>.sock` is a symlink to whichever process owns the
// name right now. These helpers are the only place that spells the two forms.

export function stableSocketPath(dir: string, name: string): string {
  return join(dir, `${name}.sock`);
}

export function processSocketPath(dir: string, name: string, pid: number): string {
  return join(dir, `${name}.${pid}.sock`);
}

/** PID encoded in a per-process socket file name, or undefined when `file` is not one of `name`'s. */
export function pidOfSocketFile(file: string, name: string): number | undefined {
  const prefix = `${name}.`;
  if (!file.startsWith(prefix) || !file.endsWith(".sock")) return undefined;
  const middle = file.slice(prefix.length, -".sock".length);
  if (!/^[1-9][0-9]{0,9}$/.test(middle)) return undefined;
  return Number(middle);
}
