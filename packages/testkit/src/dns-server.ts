import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Resolver } from "node:dns/promises";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort } from "./processes.js";
import { startServiceProcess } from "./service-process.js";
import { makeTempRoot } from "./temp-root.js";

export interface DnsServerOptions {
  /** Zones the server is authoritative for; the apex and every name under it resolve to 127.0.0.1. */
  readonly zones: readonly string[];
  /** Extra zone-file lines per zone, e.g. `{ "example.com": ["down IN A 127.0.0.2"] }`. */
  readonly records?: Readonly<Record<string, readonly string[]>>;
  readonly tsigKeyName?: string;
  /** More keys allowed to update every zone, named after their algorithm ("hmac-sha512"…). */
  readonly extraKeyAlgorithms?: readonly string[];
}

export interface DnsServer {
  readonly host: string;
  readonly port: number;
  /** "127.0.0.1:<port>", as pebble's -dnsserver and certd's flags take it. */
  readonly address: string;
  /** The key allowed to update every zone (RFC 2136), secret in base64. */
  readonly tsig: { readonly name: string; readonly algorithm: "hmac-sha256"; readonly secret: string };
  /** The extra keys: name (= algorithm) → base64 secret. */
  readonly extraKeys: ReadonlyMap<string, string>;
  readonly logFile: string;
  /** TXT values at `name`, asked from this server. */
  txt(name: string): Promise<string[]>;
  /** Runs nsupdate commands (an independent RFC 2136 client) signed with the key, then "send". */
  nsupdate(zone: string, commands: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real authoritative DNS server for tests: BIND 9 (`named`) on a free loopback port, serving
 * `zones` from a temp directory and accepting dynamic updates signed with a fresh TSIG key.
 * Recursion is off: it answers only for its own zones.
 */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const temp = await makeTempRoot("dns");
  const dir = temp.root;
  const port = await freePort();
  const tsig = {
    name: options.tsigKeyName ?? "tako-test",
    algorithm: "hmac-sha256" as const,
    secret: randomBytes(32).toString("base64"),
  };
  const extraKeys = new Map(
    (options.extraKeyAlgorithms ?? []).map((alg) => [alg, randomBytes(32).toString("base64")]),
  );
  const grants = [tsig.name, ...extraKeys.keys()].map((name) => `grant ${name} zonesub ANY;`).join(" ");
  const keyBlocks = [
    [tsig.name, tsig.algorithm, tsig.secret],
    ...[...extraKeys].map(([alg, secret]) => [alg, alg, secret]),
  ]
    .map(([name, alg, secret]) => `key "${name}" { algorithm ${alg}; secret "${secret}"; };`)
    .join("\n");
  const zoneBlocks: string[] = [];
  for (const zone of options.zones) {
    const extra = options.records?.[zone] ?? [];
    await writeFile(
      join(dir, `${zone}.zone`),
      [
        "$TTL 60",
        `@ IN SOA ns.${zone}. hostmaster.${zone}. ( 1 60 60 600 60 )`,
        `@ IN NS ns.${zone}.`,
        "ns IN A 127.0.0.1",
        "@ IN A 127.0.0.1",
        "* IN A 127.0.0.1",
        ...extra,
        "",
      ].join("\n"),
    );
    zoneBlocks.push(
      `zone "${zone}" { type primary; file "${join(dir, `${zone}.zone`)}"; update-policy { ${grants} }; };`,
    );
  }
  const conf = join(dir, "named.conf");
  await writeFile(
    conf,
    `options {
  directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  pid-file "${join(dir, "named.pid")}";
  session-keyfile "${join(dir, "session.key")}";
  managed-keys-directory "${dir}";
  recursion no;
  dnssec-validation no;
  allow-query { any; };
  notify no;
};
controls { };
${keyBlocks}
${zoneBlocks.join("\n")}
`,
  );
  const resolver = new Resolver({ timeout: 1_000, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  const firstZone = options.zones[0] ?? "";
  let proc: Awaited<ReturnType<typeof startServiceProcess>>;
  try {
    proc = await startServiceProcess({
      name: "named",
      command: "named",
      // -g: foreground, log to stderr; -4: IPv4 only; -n 1: one worker thread (shared CPU).
      args: ["-g", "-4", "-n", "1", "-c", conf],
      logFile: join(dir, "named.log"),
      debianPackage: "bind9",
      ready: async () => (await resolver.resolveSoa(firstZone).catch(() => undefined)) !== undefined,
    });
  } catch (err) {
    await temp.cleanup();
    throw err;
  }
  return {
    host: "127.0.0.1",
    port,
    address: `127.0.0.1:${port}`,
    tsig,
    extraKeys,
    logFile: proc.logFile,
    async txt(name) {
      const records = await resolver.resolveTxt(name).catch(() => [] as string[][]);
      return records.map((chunks) => chunks.join(""));
    },
    nsupdate(zone, commands) {
      const script = [`server 127.0.0.1 ${port}`, `zone ${zone}`, ...commands, "send", ""].join("\n");
      return new Promise((resolve, reject) => {
        const child = execFile(
          "nsupdate",
          ["-y", `${tsig.algorithm}:${tsig.name}:${tsig.secret}`],
          { timeout: 10_000 },
          (err, _stdout, stderr) =>
            err ? reject(new Error(`nsupdate failed: ${stderr || err.message}`)) : resolve(),
        );
        child.stdin?.end(script);
      });
    },
    async stop() {
      await proc.stop();
      await temp.cleanup();
    },
  };
}
