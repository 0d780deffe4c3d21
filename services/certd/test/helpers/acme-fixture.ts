import {
  type DnsServer,
  freePort,
  type Pebble,
  type StartTestHostOptions,
  startDnsServer,
  startPebble,
  startTestHost,
  type TestHost,
} from "@tako/testkit";
import { type CertClient, certClient } from "./cert-client.js";

export interface AcmeFixture {
  readonly dns: DnsServer;
  readonly pebble: Pebble;
  /** certd and the real edge-proxy; the edge's HTTP port is the one pebble validates HTTP-01 on. */
  readonly host: TestHost;
  readonly client: CertClient;
  stop(): Promise<void>;
}

/**
 * Everything an ACME test needs, all real: BIND serving `zones` (every name → 127.0.0.1 unless
 * `records` says otherwise), pebble validating through it, and a local host running certd
 * against pebble behind edge-proxy, which answers HTTP-01 from certd's WatchChallenges stream
 * and serves certd's certificates by SNI.
 */
export async function startAcmeFixture(options: {
  readonly zones: readonly string[];
  readonly records?: Readonly<Record<string, readonly string[]>>;
  readonly certd?: StartTestHostOptions["certd"];
}): Promise<AcmeFixture> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const httpPort = await freePort();
    const dns = await startDnsServer({
      zones: options.zones,
      ...(options.records ? { records: options.records } : {}),
    });
    stops.push(() => dns.stop());
    const pebble = await startPebble({ dnsServer: dns.address, httpPort });
    stops.push(() => pebble.stop());
    const host = await startTestHost({
      daemons: ["certd", "edge-proxy"],
      httpPort,
      certd: {
        acmeDirectoryUrl: pebble.directoryUrl,
        acmeCaFile: pebble.caFile,
        acmeEmail: "ops@example.com",
        ...options.certd,
      },
    });
    stops.push(() => host.stop());
    const { client, close } = certClient(host.socket("certd"));
    stops.push(async () => close());
    return { dns, pebble, host, client, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
