// The edge's Prometheus metrics. Recording is a few map reads and additions per request (no label
// strings are built on the hot path); the text format is produced only when scraped. Each edge
// process keeps its own numbers; the process that serves /metrics merges every process's
// snapshot, so the scrape shows the whole edge.

/** Upper bounds (seconds) of the request latency histogram. */
export const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

interface RequestStats {
  /** status code → count */
  readonly codes: Map<number, number>;
  /** Cumulative counts are computed at render; these are per bucket (last = +Inf). */
  readonly buckets: number[];
  sumS: number;
  count: number;
}

export type ColdStartResult = "ok" | "timeout" | "failed" | "rejected";
export type Listener = "http" | "https";

/** Everything one process counted, in a form that crosses IPC (plain JSON). */
export interface MetricsSnapshot {
  /** "{app}/{env}" ("" for unrouted requests) → stats */
  readonly requests: Record<
    string,
    { codes: Record<string, number>; buckets: number[]; sumS: number; count: number }
  >;
  readonly activeConnections: Record<Listener, number>;
  /** "{app}/{env}|result" → count */
  readonly coldStarts: Record<string, number>;
  /** reason → count */
  readonly tlsHandshakeFailures: Record<string, number>;
  /** "{app}/{env}" → count */
  readonly upstreamErrors: Record<string, number>;
}

/** Per-deployment gauges the process serving /metrics adds from its own state. */
export interface InstanceGauge {
  readonly app: string;
  readonly env: string;
  readonly healthy: number;
  readonly desired: number | undefined;
}

export class EdgeMetrics {
  readonly #requests = new Map<string, RequestStats>();
  readonly #active: Record<Listener, number> = { http: 0, https: 0 };
  readonly #coldStarts = new Map<string, number>();
  readonly #tls = new Map<string, number>();
  readonly #upstreamErrors = new Map<string, number>();

  /** Records one finished request of deployment `key` ("" when no route matched). */
  request(key: string, status: number, durationS: number): void {
    let stats = this.#requests.get(key);
    if (!stats) {
      stats = {
        codes: new Map(),
        buckets: new Array(LATENCY_BUCKETS_S.length + 1).fill(0),
        sumS: 0,
        count: 0,
      };
      this.#requests.set(key, stats);
    }
    stats.codes.set(status, (stats.codes.get(status) ?? 0) + 1);
    let i = 0;
    while (i < LATENCY_BUCKETS_S.length && durationS > (LATENCY_BUCKETS_S[i] as number)) i++;
    stats.buckets[i] = (stats.buckets[i] ?? 0) + 1;
    stats.sumS += durationS;
    stats.count++;
  }

  connectionOpened(listener: Listener): void {
    this.#active[listener]++;
  }

  connectionClosed(listener: Listener): void {
    this.#active[listener]--;
  }

  coldStart(key: string, result: ColdStartResult): void {
    bump(this.#coldStarts, `${key}|${result}`);
  }

  tlsHandshakeFailure(reason: string): void {
    bump(this.#tls, reason);
  }

  upstreamError(key: string): void {
    bump(this.#upstreamErrors, key);
  }

  snapshot(): MetricsSnapshot {
    const requests: MetricsSnapshot["requests"] = {};
    for (const [key, s] of this.#requests) {
      requests[key] = {
        codes: Object.fromEntries([...s.codes].map(([c, n]) => [String(c), n])),
        buckets: [...s.buckets],
        sumS: s.sumS,
        count: s.count,
      };
    }
    return {
      requests,
      activeConnections: { ...this.#active },
      coldStarts: Object.fromEntries(this.#coldStarts),
      tlsHandshakeFailures: Object.fromEntries(this.#tls),
      upstreamErrors: Object.fromEntries(this.#upstreamErrors),
    };
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function addInto(target: Record<string, number>, source: Record<string, number>): void {
  for (const [k, v] of Object.entries(source)) target[k] = (target[k] ?? 0) + v;
}

/** Merges per-process snapshots into one. */
export function mergeSnapshots(snapshots: readonly MetricsSnapshot[]): MetricsSnapshot {
  const requests: Record<
    string,
    { codes: Record<string, number>; buckets: number[]; sumS: number; count: number }
  > = {};
  const activeConnections = { http: 0, https: 0 };
  const coldStarts: Record<string, number> = {};
  const tls: Record<string, number> = {};
  const upstreamErrors: Record<string, number> = {};
  for (const s of snapshots) {
    for (const [key, r] of Object.entries(s.requests)) {
      const into = requests[key] ?? {
        codes: {},
        buckets: new Array(LATENCY_BUCKETS_S.length + 1).fill(0),
        sumS: 0,
        count: 0,
      };
      requests[key] = into;
      addInto(into.codes, r.codes);
      r.buckets.forEach((n, i) => {
        into.buckets[i] = (into.buckets[i] ?? 0) + n;
      });
      into.sumS += r.sumS;
      into.count += r.count;
    }
    activeConnections.http += s.activeConnections.http;
    activeConnections.https += s.activeConnections.https;
    addInto(coldStarts, s.coldStarts);
    addInto(tls, s.tlsHandshakeFailures);
    addInto(upstreamErrors, s.upstreamErrors);
  }
  return { requests, activeConnections, coldStarts, tlsHandshakeFailures: tls, upstreamErrors };
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

function appLabels(key: string): string {
  const slash = key.indexOf("/");
  const app = slash === -1 ? "" : key.slice(0, slash);
  const env = slash === -1 ? "" : key.slice(slash + 1);
  return `app="${escapeLabel(app)}",env="${escapeLabel(env)}"`;
}

/** Prometheus text exposition format (version 0.0.4). */
export function renderMetrics(s: MetricsSnapshot, instances: readonly InstanceGauge[]): string {
  const out: string[] = [];
  const header = (name: string, type: string, help: string) =>
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

  header(
    "tako_edge_requests_total",
    "counter",
    "Requests answered by the edge, by deployment and status code.",
  );
  for (const [key, r] of Object.entries(s.requests)) {
    for (const [code, n] of Object.entries(r.codes)) {
      out.push(`tako_edge_requests_total{${appLabels(key)},code="${code}"} ${n}`);
    }
  }
  header("tako_edge_request_duration_seconds", "histogram", "Time from request to the end of the response.");
  for (const [key, r] of Object.entries(s.requests)) {
    let cumulative = 0;
    LATENCY_BUCKETS_S.forEach((le, i) => {
      cumulative += r.buckets[i] ?? 0;
      out.push(`tako_edge_request_duration_seconds_bucket{${appLabels(key)},le="${le}"} ${cumulative}`);
    });
    out.push(`tako_edge_request_duration_seconds_bucket{${appLabels(key)},le="+Inf"} ${r.count}`);
    out.push(`tako_edge_request_duration_seconds_sum{${appLabels(key)}} ${r.sumS}`);
    out.push(`tako_edge_request_duration_seconds_count{${appLabels(key)}} ${r.count}`);
  }
  header("tako_edge_active_connections", "gauge", "Open client connections, by listener.");
  for (const [listener, n] of Object.entries(s.activeConnections)) {
    out.push(`tako_edge_active_connections{listener="${listener}"} ${n}`);
  }
  header("tako_edge_cold_starts_total", "counter", "Cold starts of apps scaled to zero, by result.");
  for (const [k, n] of Object.entries(s.coldStarts)) {
    const [key = "", result = ""] = k.split("|");
    out.push(`tako_edge_cold_starts_total{${appLabels(key)},result="${escapeLabel(result)}"} ${n}`);
  }
  header("tako_edge_tls_handshake_failures_total", "counter", "TLS handshakes that failed, by reason.");
  for (const [reason, n] of Object.entries(s.tlsHandshakeFailures)) {
    out.push(`tako_edge_tls_handshake_failures_total{reason="${escapeLabel(reason)}"} ${n}`);
  }
  header(
    "tako_edge_upstream_errors_total",
    "counter",
    "Requests that failed at an app instance (answered 502).",
  );
  for (const [key, n] of Object.entries(s.upstreamErrors)) {
    out.push(`tako_edge_upstream_errors_total{${appLabels(key)}} ${n}`);
  }
  header("tako_edge_healthy_instances", "gauge", "Healthy instances in traffic, from the supervisor.");
  for (const i of instances)
    out.push(`tako_edge_healthy_instances{${appLabels(`${i.app}/${i.env}`)}} ${i.healthy}`);
  header("tako_edge_desired_instances", "gauge", "Desired instance count, from the supervisor.");
  for (const i of instances) {
    if (i.desired !== undefined)
      out.push(`tako_edge_desired_instances{${appLabels(`${i.app}/${i.env}`)}} ${i.desired}`);
  }
  return `${out.join("\n")}\n`;
}
