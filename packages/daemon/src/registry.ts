// The daemon set of a host. DAEMONS is the whole design; INSTALLED_DAEMONS is what this build
// actually ships, in start order (a daemon a later issue builds is added here when it exists —
// nothing is ever started that does not).

export const DAEMONS = ["certd", "supervisor", "edge-proxy", "workflowd", "channeld", "agentd"] as const;
export type DaemonName = (typeof DAEMONS)[number];

/** Stable socket name of each daemon in the run directory (`<name>.sock`). */
export const SOCKET_NAMES: Readonly<Record<DaemonName, string>> = Object.freeze({
  agentd: "tako",
  supervisor: "supervisor",
  "edge-proxy": "edge",
  certd: "certd",
  workflowd: "workflowd",
  channeld: "channeld",
});

/** Daemons this build ships, in the order the local host starts them (stopped in reverse). */
export const INSTALLED_DAEMONS: readonly DaemonName[] = Object.freeze([
  "certd",
  "supervisor",
  "edge-proxy",
  "agentd",
] as DaemonName[]);

export function isDaemonName(value: string): value is DaemonName {
  return (DAEMONS as readonly string[]).includes(value);
}
