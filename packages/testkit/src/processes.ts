import { readdir, readFile, readlink } from "node:fs/promises";
import { createServer } from "node:net";
import { probeSocket } from "@tako/rpc";

export interface ProcessInfo {
  readonly pid: number;
  readonly argv: readonly string[];
}

/** Live processes whose command line mentions `needle` (e.g. a host's root directory). */
export async function processesMentioning(needle: string): Promise<ProcessInfo[]> {
  const out: ProcessInfo[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const argv = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").filter(Boolean);
      const stat = await readFile(`/proc/${pid}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue; // a zombie is already dead
      if (argv.some((a) => a.includes(needle))) out.push({ pid, argv });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/**
 * How many established IPv4 TCP connections with local port `port` the process `pid` holds
 * (the server side of connections to a port it accepts on), from /proc.
 */
export async function establishedConnections(pid: number, port: number): Promise<number> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const line of (await readFile("/proc/net/tcp", "utf8")).split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st ... inode (the 10th field); 01 = ESTABLISHED
    if (f.length > 9 && f[1]?.endsWith(`:${hexPort}`) && f[3] === "01") inodes.add(f[9] as string);
  }
  let n = 0;
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode && inodes.has(inode)) n++;
  }
  return n;
}

/** Socket files (and socket symlinks) left in a directory, with whether anything listens. */
export async function socketsIn(dir: string): Promise<{ file: string; state: string }[]> {
  const files = await readdir(dir).catch(() => [] as string[]);
  const sockets = files.filter((f) => f.endsWith(".sock"));
  return Promise.all(
    sockets.map(async (file) => ({ file, state: await probeSocket(`${dir}/${file}`, 500) })),
  );
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
