// The one registry of reason codes. A reason is stable: clients (the CLI, automation) branch on
// it, so never rename one; add a new one instead. `kind` is the transport-neutral category that
// packages/rpc maps to a Connect/gRPC code; `hint` is the default "what to do next" line.

export type ErrorKind =
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "failed_precondition"
  | "aborted"
  | "resource_exhausted"
  | "unavailable"
  | "deadline_exceeded"
  | "permission_denied"
  | "unauthenticated"
  | "unimplemented"
  | "canceled"
  | "internal";

export interface ReasonSpec {
  readonly kind: ErrorKind;
  readonly hint: string;
}

export const REASONS = {
  // Generic
  INVALID_ARGUMENT: { kind: "invalid_argument", hint: "Check the request against the contract in proto/." },
  NOT_FOUND: { kind: "not_found", hint: "Check the name and try again." },
  INTERNAL: { kind: "internal", hint: "This is a bug in Tako; the daemon's log has the details." },
  UNAVAILABLE: { kind: "unavailable", hint: "Retry in a moment." },
  CANCELED: { kind: "canceled", hint: "The operation was cancelled before it finished." },
  DEADLINE_EXCEEDED: { kind: "deadline_exceeded", hint: "Retry, or allow more time with a longer deadline." },
  REQUEST_TOO_LARGE: { kind: "resource_exhausted", hint: "Send a smaller request." },
  UNIMPLEMENTED: { kind: "unimplemented", hint: "Upgrade the host so both sides run the same Tako version." },

  // Daemons, sockets and the local host
  SOCKET_PATH_TOO_LONG: {
    kind: "invalid_argument",
    hint: "Use a shorter root directory: Unix socket paths are limited to 107 bytes.",
  },
  SOCKET_IN_USE: { kind: "already_exists", hint: "Another process serves this socket; stop it first." },
  DAEMON_UNREACHABLE: {
    kind: "unavailable",
    hint: "Start the host with `tako server start`, or check `tako server status`.",
  },
  UNKNOWN_DAEMON: {
    kind: "invalid_argument",
    hint: "Use one of the daemon names `tako server status` lists.",
  },
  DAEMON_START_FAILED: { kind: "unavailable", hint: "Read the daemon's log lines above for the cause." },
  RELOAD_FAILED: {
    kind: "unavailable",
    hint: "The previous process keeps serving; read the daemon's log for why its successor failed.",
  },
  RELOAD_IN_PROGRESS: { kind: "aborted", hint: "Wait for the running reload to finish and retry." },
  HOST_ALREADY_RUNNING: {
    kind: "already_exists",
    hint: "Stop it with `tako server stop --root <dir>` or use another --root.",
  },
  HOST_NOT_RUNNING: { kind: "failed_precondition", hint: "Start it with `tako server start --root <dir>`." },
  CONFIG_INVALID: { kind: "invalid_argument", hint: "Fix the configuration as the message says and retry." },
  ALREADY_EXISTS: { kind: "already_exists", hint: "Use another name, or remove the existing one first." },

  // Release artifacts (packages/artifact)
  ARTIFACT_REJECTED: {
    kind: "invalid_argument",
    hint: "Rebuild the artifact with `tako deploy`; nothing was written on the server.",
  },

  // Deploys and apps (agentd)
  DEPLOY_LOCKED: {
    kind: "aborted",
    hint: "Another deploy of this app and environment is running; wait for it and retry.",
  },
  DEPLOY_FAILED: {
    kind: "failed_precondition",
    hint: "The previous release keeps serving; fix the cause and deploy again.",
  },
  INSTALL_FAILED: {
    kind: "failed_precondition",
    hint: "Make sure package-lock.json matches package.json (run `npm install` locally) and deploy again.",
  },
  RELEASE_COMMAND_FAILED: {
    kind: "failed_precondition",
    hint: "Fix the release command and deploy again; the previous release keeps serving.",
  },
  APP_NOT_FOUND: {
    kind: "not_found",
    hint: "Deploy it first with `tako deploy`, or check the app and --env names.",
  },
  RELEASE_NOT_FOUND: {
    kind: "not_found",
    hint: "List the releases kept on the host with `tako releases list`.",
  },
  // The tako CLI: app config, build, secrets, SSH and remote servers
  APP_CONFIG_NOT_FOUND: {
    kind: "not_found",
    hint: "Run `tako init` in your app's directory, or point to the file with `-c <path>`.",
  },
  SERVER_NOT_FOUND: {
    kind: "not_found",
    hint: "Add it with `tako servers add <name> <user@host>`; `tako servers list` shows the known ones.",
  },
  SSH_HOST_KEY_UNKNOWN: {
    kind: "failed_precondition",
    hint: "Check the fingerprint on the server, then add the host key to ~/.ssh/known_hosts.",
  },
  SSH_HOST_KEY_CHANGED: {
    kind: "failed_precondition",
    hint: "If the server was reinstalled, check its new fingerprint there and replace the old known_hosts entry.",
  },
  SSH_AUTH_FAILED: {
    kind: "unauthenticated",
    hint: "Pass your key with --ssh-key, add it to your ssh-agent, or authorize it on the server.",
  },
  SSH_CONNECT_FAILED: { kind: "unavailable", hint: "Check the host, the port and that sshd runs there." },
  SECRETS_KEY_MISSING: {
    kind: "failed_precondition",
    hint: "Copy the environment's key from a teammate into .tako/keys/<env>, or set the secrets again.",
  },
  SECRETS_INVALID: { kind: "invalid_argument", hint: "Fix .tako/secrets.json or set the secret again." },
  BUILD_FAILED: {
    kind: "failed_precondition",
    hint: "Fix the build (its output is above) and deploy again.",
  },
  HOST_INSTALL_FAILED: {
    kind: "failed_precondition",
    hint: "Read the installer's output above; run `tako servers add … --install` again once it is fixed.",
  },

  // edge-proxy
  ROUTE_INVALID: {
    kind: "invalid_argument",
    hint: 'Use "example.com", "*.example.com" or "example.com/app/*" in the routes of tako.toml.',
  },
  ROUTE_CONFLICT: {
    kind: "already_exists",
    hint: "Remove the route from the other deployment first (or delete it), or choose another route.",
  },
  ROUTE_STATE_CORRUPT: {
    kind: "failed_precondition",
    hint: "Restore the edge's routes file from a backup or remove it and redeploy every app to push routes again.",
  },

  // supervisor: app processes (spawn, health, rollouts, scale, wake); APP_NOT_FOUND is agentd's
  APP_STOPPED: { kind: "failed_precondition", hint: "Deploy the app again to start it." },
  RELEASE_INVALID: {
    kind: "invalid_argument",
    hint: "Fix the release as the message says and deploy again.",
  },
  APP_START_FAILED: {
    kind: "unavailable",
    hint: "Read the app's startup output in the message, fix the app and deploy again.",
  },
  APP_START_TIMEOUT: {
    kind: "deadline_exceeded",
    hint: "The app did not report readiness in time: read its startup output, or raise its startup timeout.",
  },
  ROLLOUT_FAILED: {
    kind: "failed_precondition",
    hint: "The previous release keeps serving; fix the new release and deploy again.",
  },
  ROLLOUT_IN_PROGRESS: {
    kind: "aborted",
    hint: "Another rollout of this app is running; wait for it to finish and retry.",
  },
  SCALE_LIMIT: {
    kind: "invalid_argument",
    hint: "Use fewer instances or spread traffic across more servers.",
  },
  SCALE_FAILED: {
    kind: "unavailable",
    hint: "The instance count is unchanged; read the startup output in the message and retry.",
  },
  HOST_ROOT_UNREACHABLE: {
    kind: "failed_precondition",
    hint: "App processes run as their own users: put the host's root under a directory every user can search (e.g. /srv/tako or /tmp/tako), or `chmod o+x` the directory the message names.",
  },
  SUPERVISOR_HANDOVER: {
    kind: "unavailable",
    hint: "The supervisor is taking over from its predecessor after a reload; retry in a moment.",
  },

  // certd: certificates, ACME orders, DNS-01 providers
  CERT_HOST_INVALID: {
    kind: "invalid_argument",
    hint: "Use a DNS name such as app.example.com, or a wildcard with at least two labels after `*.` (*.apps.example.com).",
  },
  CERT_NOT_FOUND: {
    kind: "not_found",
    hint: "List what certd holds with ListCertificates; a certificate exists once a deploy asked for its host.",
  },
  CERT_ISSUE_FAILED: {
    kind: "unavailable",
    hint: "Check that the host's DNS points at this server and port 80 reaches the edge (HTTP-01), or that the DNS provider credentials work (DNS-01); certd keeps any certificate in use and retries with backoff.",
  },
  DNS_PROVIDER_MISSING: {
    kind: "failed_precondition",
    hint: "Configure DNS-01 credentials for the zone with `tako servers setup-wildcard --env <env>`.",
  },
  DNS_PROVIDER_INVALID: {
    kind: "invalid_argument",
    hint: "Check the zone and the provider's fields against `tako servers setup-wildcard --help`.",
  },
  DNS_PROVIDER_REJECTED: {
    kind: "failed_precondition",
    hint: "Check the credentials with the DNS provider (token permissions, TSIG key name, secret and algorithm) and run `tako servers setup-wildcard` again.",
  },
} as const satisfies Record<string, ReasonSpec>;

export type Reason = keyof typeof REASONS;

export function isReason(value: string): value is Reason {
  return Object.hasOwn(REASONS, value);
}
