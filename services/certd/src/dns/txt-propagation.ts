import { lookup, Resolver } from "node:dns/promises";
import { isIP } from "node:net";
import type { HostPort } from "../config.js";

export interface TxtPropagationOptions {
  /** Servers to ask directly (authoritative ones: no cache can hide a fresh record). */
  readonly servers: readonly HostPort[];
  readonly name: string;
  readonly value: string;
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  readonly signal: AbortSignal;
}

async function serverAddress(server: HostPort): Promise<string> {
  const ip = isIP(server.host) ? server.host : (await lookup(server.host)).address;
  return isIP(ip) === 6 ? `[${ip}]:${server.port}` : `${ip}:${server.port}`;
}

async function hasValue(resolver: Resolver, name: string, value: string): Promise<boolean> {
  try {
    const records = await resolver.resolveTxt(name);
    return records.some((chunks) => chunks.join("") === value);
  } catch {
    return false; // NXDOMAIN, NODATA or a timeout: not there yet
  }
}

/**
 * Resolves once every server answers `name` with a TXT record holding `value`, so the CA cannot
 * ask a server that has not seen it yet. Rejects naming the servers still missing it.
 */
export async function waitForTxt(options: TxtPropagationOptions): Promise<void> {
  if (options.servers.length === 0) {
    throw new Error(`no authoritative DNS server is known to check ${options.name} on`);
  }
  const intervalMs = options.intervalMs ?? 500;
  const deadline = Date.now() + options.timeoutMs;
  const pending = new Map<string, Resolver>();
  for (const server of options.servers) {
    const address = await serverAddress(server);
    const resolver = new Resolver({ timeout: 2_000, tries: 1 });
    resolver.setServers([address]);
    pending.set(address, resolver);
  }
  for (;;) {
    for (const [address, resolver] of [...pending]) {
      if (await hasValue(resolver, options.name, options.value)) pending.delete(address);
    }
    if (pending.size === 0) return;
    if (options.signal.aborted) throw options.signal.reason;
    if (Date.now() >= deadline) {
      throw new Error(
        `the TXT record ${options.name} did not appear on ${[...pending.keys()].join(", ")} within ${Math.round(options.timeoutMs / 1000)} s`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
