// Runs wrk against one peer and parses its report.
import { spawn } from "node:child_process";

export function runWrk({ port, connections, durationS }) {
  return new Promise((resolve, reject) => {
    const args = [
      "-t2",
      `-c${connections}`,
      `-d${durationS}s`,
      "--latency",
      "-H",
      "Host: bench.test",
      `https://127.0.0.1:${port}/`,
    ];
    // Through sh, whose `times` reports the CPU time wrk used (user and system, its last line).
    const child = spawn("sh", ["-c", 'wrk "$@"; rc=$?; times; exit $rc', "sh", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
    });
    child.stderr.on("data", (c) => {
      out += c;
    });
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`wrk failed (${code}): ${out}`));
      resolve(parseWrk(out));
    });
  });
}

function toMs(value, unit) {
  const n = Number(value);
  return unit === "us" ? n / 1000 : unit === "s" ? n * 1000 : unit === "m" ? n * 60_000 : n;
}

export function parseWrk(text) {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (!rps) throw new Error(`cannot read wrk's report:\n${text}`);
  const pct = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(text);
    return m ? Number(toMs(m[1], m[2]).toFixed(3)) : Number.NaN;
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const errors = socket ? socket.slice(1).reduce((n, v) => n + Number(v), 0) : 0;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? 0);
  const times = [...text.matchAll(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/gm)].at(-1);
  const wrkCpuS = times
    ? Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4])
    : 0;
  return {
    requestsPerSec: Number(rps[1]),
    requests,
    p50Ms: pct(50),
    p99Ms: pct(99),
    errors,
    non2xx,
    wrkCpuS,
  };
}
