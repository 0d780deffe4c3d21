import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { get } from "node:https";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./processes.js";
import { startServiceProcess } from "./service-process.js";
import { makeTempRoot } from "./temp-root.js";

const run = promisify(execFile);

export interface PebbleOptions {
  /** The DNS server pebble resolves names and DNS-01 records with ("127.0.0.1:<port>"). */
  readonly dnsServer: string;
  /** Port pebble connects to for HTTP-01 (its `httpPort`); default a free one. */
  readonly httpPort?: number;
  /** Validity of the certificates it issues; default pebble's own (5 years). */
  readonly certificateValiditySeconds?: number;
}

export interface Pebble {
  /** ACME directory, e.g. https://127.0.0.1:<port>/dir. */
  readonly directoryUrl: string;
  /** pebble's own TLS certificate: what an ACME client must trust to reach the directory. */
  readonly caFile: string;
  /** Where pebble's validation authority connects for HTTP-01 (on the address the name resolves to). */
  readonly httpPort: number;
  readonly logFile: string;
  /** PEM of the root that signs issued chains (pebble makes a new one every start). */
  rootCertificate(): Promise<string>;
  stop(): Promise<void>;
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { ca, timeout: 5_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/**
 * A real ACME server for tests: Debian's pebble on free loopback ports, with a TLS certificate
 * made for it here (the package ships none), validating names through `dnsServer`, without its
 * random validation sleeps, nonce rejections or authorization reuse (every order validates).
 */
export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  const temp = await makeTempRoot("pebble");
  const dir = temp.root;
  try {
    const [listenPort, managementPort, tlsPort] = [await freePort(), await freePort(), await freePort()];
    const httpPort = options.httpPort ?? (await freePort());
    const caFile = join(dir, "cert.pem");
    const keyFile = join(dir, "key.pem");
    // pebble's TLS listener certificate (ECDSA P-256; localhost and 127.0.0.1).
    await run("openssl", [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "7"],
      ...["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
      ...["-keyout", keyFile, "-out", caFile],
    ]);
    const config = join(dir, "pebble-config.json");
    await writeFile(
      config,
      JSON.stringify({
        pebble: {
          listenAddress: `127.0.0.1:${listenPort}`,
          managementListenAddress: `127.0.0.1:${managementPort}`,
          certificate: caFile,
          privateKey: keyFile,
          httpPort,
          tlsPort,
          ocspResponderURL: "",
          externalAccountBindingRequired: false,
          ...(options.certificateValiditySeconds
            ? { certificateValidityPeriod: options.certificateValiditySeconds }
            : {}),
        },
      }),
    );
    const ca = await readFile(caFile, "utf8");
    const directoryUrl = `https://127.0.0.1:${listenPort}/dir`;
    const proc = await startServiceProcess({
      name: "pebble",
      command: "pebble",
      args: ["-config", config, "-dnsserver", options.dnsServer],
      env: {
        ...process.env,
        PEBBLE_VA_NOSLEEP: "1",
        PEBBLE_WFE_NONCEREJECT: "0",
        PEBBLE_AUTHZREUSE: "0",
      },
      cwd: dir,
      logFile: join(dir, "pebble.log"),
      debianPackage: "pebble",
      ready: async () => (await httpsGet(directoryUrl, ca).catch(() => ({ status: 0 }))).status === 200,
    });
    return {
      directoryUrl,
      caFile,
      httpPort,
      logFile: proc.logFile,
      async rootCertificate() {
        const res = await httpsGet(`https://127.0.0.1:${managementPort}/roots/0`, ca);
        if (res.status !== 200) throw new Error(`pebble /roots/0 answered ${res.status}`);
        return res.body;
      },
      async stop() {
        await proc.stop();
        await temp.cleanup();
      },
    };
  } catch (err) {
    await temp.cleanup();
    throw err;
  }
}
