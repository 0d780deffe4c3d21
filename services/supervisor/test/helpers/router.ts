import { Agent, request } from "node:http";
import type { Endpoint } from "@tako/proto";
import { followStream } from "@tako/rpc";
import type { SupervisorClient } from "./supervisor.js";

export interface LoadStats {
  ok: number;
  failures: string[];
  /** PIDs that answered (the crashy fixture reports its pid). */
  readonly pids: Set<number>;
  readonly releases: Set<string>;
}

/**
 * A stand-in for the edge: follows WatchEndpoints (no polling) and sends requests round-robin to
 * the healthy endpoints of one app over keep-alive connections, as the edge will. It never
 * retries: every failed request counts.
 */
export class TestRouter {
  endpoints: Endpoint[] = [];
  /** Every release version the table has ever routed to. */
  readonly versionsSeen = new Set<string>();
  snapshots = 0;
  readonly #abort = new AbortController();
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 16 });
  #next = 0;
  #following: Promise<void> = Promise.resolve();

  constructor(
    readonly client: SupervisorClient,
    readonly app: string,
    readonly env = "production",
  ) {}

  start(): void {
    this.#following = followStream({
      signal: this.#abort.signal,
      open: (signal) => this.client.watchEndpoints({}, { signal, timeoutMs: 0 }),
      onMessage: (msg) => {
        if (msg.snapshot) this.snapshots++;
        const mine = msg.apps.find((a) => a.app === this.app && a.env === this.env);
        if (mine) this.endpoints = mine.endpoints;
        else if (msg.snapshot || msg.removed.includes(`${this.app}/${this.env}`)) this.endpoints = [];
        for (const e of this.endpoints) this.versionsSeen.add(e.version);
      },
    });
  }

  get(path: string): Promise<{ status: number; body: string }> {
    const endpoint = this.endpoints[this.#next++ % Math.max(1, this.endpoints.length)];
    if (!endpoint) return Promise.reject(new Error("no healthy endpoint"));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: endpoint.host,
          port: endpoint.port,
          path,
          agent: this.#agent,
          headers: { host: `${this.app}.example.com` },
        },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => {
            body += c;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          res.on("error", reject);
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path} timed out`)));
      req.on("error", reject);
      req.end();
    });
  }

  /**
   * `concurrency` loops of GET until stopped (request n goes to `path(n)`, default "/"); returns
   * the stats and a stop function.
   */
  load(
    concurrency: number,
    path: (n: number) => string = () => "/",
  ): { stats: LoadStats; stop: () => Promise<void> } {
    const stats: LoadStats = { ok: 0, failures: [], pids: new Set(), releases: new Set() };
    let running = true;
    let sent = 0;
    const loops = Array.from({ length: concurrency }, async () => {
      while (running) {
        try {
          const res = await this.get(path(sent++));
          if (res.status !== 200) stats.failures.push(`status ${res.status}: ${res.body.slice(0, 200)}`);
          else {
            const body = JSON.parse(res.body) as { pid: number; release: string };
            stats.pids.add(body.pid);
            stats.releases.add(body.release);
            stats.ok++;
          }
        } catch (err) {
          stats.failures.push((err as Error).message);
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    });
    return {
      stats,
      stop: async () => {
        running = false;
        await Promise.all(loops);
      },
    };
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#following;
    this.#agent.destroy();
  }
}
