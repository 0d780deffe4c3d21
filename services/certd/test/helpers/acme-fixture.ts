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
import { type ChallengeResponder, startChallengeResponder } from "./challenge-responder.js";

export interface AcmeFixture {
  readonly dns: DnsServer;
  readonly pebble: Pebble;
  readonly host: TestHost;
  readonly client: CertClient;
  readonly responder: ChallengeResponder;
  stop(): Promise<void>;
}

/**
 * Everything an ACME test needs, all real: BIND serving `zones` (every name → 127.0.0.1 unless
 * `records` says otherwise), pebble validating through it, a local host running certd against
 * pebble, and an HTTP-01 responder fed by certd's WatchChallenges on pebble's HTTP port.
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
      daemons: ["certd"],
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
    const responder = await startChallengeResponder({ port: httpPort, certdSocket: host.socket("certd") });
    stops.push(() => responder.stop());
    return { dns, pebble, host, client, responder, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
