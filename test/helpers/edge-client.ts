import { execFile } from "node:child_process";
import type { IncomingMessage } from "node:http";
import { Agent, request } from "node:https";
import { text } from "node:stream/consumers";
import { setTimeout as sleep } from "node:timers/promises";

/** A response from the edge, headers lowercased. */
export interface EdgeReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface CurlOptions {
  /** PEM file to verify the edge's certificate with; without it the certificate is not checked (-k). */
  readonly cacert?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * `curl --resolve <host>:<port>:127.0.0.1 https://<host>:<port><path>`: the real curl against
 * the edge on loopback, with the name a browser would use (SNI and Host). A failed transfer
 * (TLS, connection) rejects with curl's message.
 */
export function curlEdge(
  port: number,
  host: string,
  path: string,
  options: CurlOptions = {},
): Promise<EdgeReply> {
  const args = [
    "-sS",
    "-i",
    "--max-time",
    "60",
    "--resolve",
    `${host}:${port}:127.0.0.1`,
    ...(options.cacert ? ["--cacert", options.cacert] : ["-k"]),
    ...Object.entries(options.headers ?? {}).flatMap(([k, v]) => ["-H", `${k}: ${v}`]),
    `https://${host}:${port}${path}`,
  ];
  return new Promise((resolve, reject) => {
    execFile("curl", args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`curl ${args.join(" ")} failed: ${stderr.trim() || err.message}`));
        return;
      }
      const end = stdout.indexOf("\r\n\r\n");
      const [statusLine = "", ...lines] = stdout.slice(0, end).split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body: stdout.slice(end + 4) });
    });
  });
}

export interface LoadOptions {
  readonly port: number;
  readonly host: string;
  /** PEM the edge's certificate must verify against. */
  readonly ca: string;
  readonly path?: string;
  /** Concurrent keep-alive clients, each sending one request after the other. */
  readonly clients?: number;
}

export interface LoadStats {
  readonly requests: number;
  /** Responses per HTTP status. */
  readonly statuses: Readonly<Record<number, number>>;
  /** Transport errors and timeouts, with the time they happened. */
  readonly errors: readonly string[];
  /** The `build` field of the JSON replies in the order they first appeared. */
  readonly builds: readonly string[];
  /** The `build` of the last 2xx reply. */
  readonly lastBuild: string | undefined;
}

export interface LoadLoop {
  /** Resolves once every client has had `n` more responses than now (the loop demonstrably runs). */
  more(n: number): Promise<void>;
  stop(): Promise<LoadStats>;
}

/**
 * Node HTTPS clients hammering the edge over keep-alive connections until stopped, recording
 * every status and error (a request that takes over 30 s counts as an error).
 */
export function startLoad(options: LoadOptions): LoadLoop {
  const statuses: Record<number, number> = {};
  const errors: string[] = [];
  const builds: string[] = [];
  let lastBuild: string | undefined;
  let requests = 0;
  let running = true;
  const clients = options.clients ?? 4;
  const counts: number[] = Array.from({ length: clients }, () => 0);
  const waiters: { targets: number[]; resolve: () => void }[] = [];
  const wake = () => {
    for (const w of [...waiters]) {
      if (w.targets.every((n, i) => (counts[i] ?? 0) >= n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const client = async (index: number) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: options.ca });
    try {
      while (running) {
        try {
          const reply = await get(agent, options);
          requests++;
          statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
          if (reply.status >= 200 && reply.status < 300) {
            const build = (JSON.parse(reply.body) as { build?: string }).build;
            if (build !== undefined) {
              lastBuild = build;
              if (!builds.includes(build)) builds.push(build);
            }
          }
        } catch (err) {
          requests++;
          errors.push(`${new Date().toISOString()} ${(err as Error).message}`);
          await sleep(5); // a refused connection fails at once: do not spin
        }
        counts[index] = (counts[index] ?? 0) + 1;
        wake();
      }
    } finally {
      agent.destroy();
    }
  };
  const done = Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  return {
    more: (n) =>
      new Promise((resolve) => {
        waiters.push({ targets: counts.map((c) => c + n), resolve });
        wake();
      }),
    async stop() {
      running = false;
      await done;
      return { requests, statuses, errors, builds, lastBuild };
    },
  };
}

async function get(agent: Agent, options: LoadOptions): Promise<{ status: number; body: string }> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: options.port,
        servername: options.host,
        path: options.path ?? "/",
        headers: { host: options.host },
        agent,
        timeout: 30_000,
      },
      resolve,
    );
    // An idle socket for 30 s, before or during the response, ends the request (and its body).
    req.on("timeout", () => req.destroy(new Error("no response within 30 s")));
    req.on("error", reject);
    req.end();
  });
  return { status: res.statusCode ?? 0, body: await text(res) };
}
