import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:http";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";

export const ENTRYPOINT = fileURLToPath(new URL("../src/entrypoints/server.js", import.meta.url));
export const FIXTURES = fileURLToPath(new URL("../../test/fixtures/", import.meta.url));
export const TOKEN = "tok_0123456789abcdefghijklmnopqrstuv";

export interface Started {
  readonly child: ChildProcess;
  /** The port reported on fd 4, or undefined when fd 4 closed without one. */
  readonly port: number | undefined;
  /** Milliseconds from spawn to the port on fd 4. */
  readonly readyMs: number;
  output(): string;
  exited: Promise<number | null>;
}

/**
 * Runs the SDK entrypoint the way the supervisor does: the envelope on fd 3 (or nothing at all),
 * readiness read from fd 4, a clean environment.
 */
export function startEntrypoint(
  /** A fixture name, or an absolute path. */
  app: string,
  /** null: no fd 3 at all. */
  envelope: string | null = JSON.stringify({
    token: TOKEN,
    instance_id: "inst0001",
    version: "v9",
    secrets: { NAME: "Ada" },
  }),
): Promise<Started> {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [ENTRYPOINT, app.startsWith("/") ? app : `${FIXTURES}${app}`], {
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", TAKO_APP_NAME: "sdktest" },
    stdio: envelope === null ? ["ignore", "pipe", "pipe"] : ["ignore", "pipe", "pipe", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  if (envelope === null) {
    return exited.then(() => ({ child, port: undefined, readyMs: 0, output: () => out, exited }));
  }
  (child.stdio[3] as Writable).end(envelope);
  return new Promise((resolve) => {
    let text = "";
    const fd4 = child.stdio[4] as Readable;
    const done = () =>
      resolve({
        child,
        port: /^\d+\n/.test(text) ? Number.parseInt(text, 10) : undefined,
        readyMs: Date.now() - startedAt,
        output: () => out,
        exited,
      });
    fd4.on("data", (d) => {
      text += d;
      if (text.includes("\n")) done();
    });
    fd4.on("end", done);
  });
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export function call(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: options.headers,
        agent: false,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}
