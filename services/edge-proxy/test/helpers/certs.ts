import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestCertificate {
  readonly names: readonly string[];
  readonly certPem: string;
  readonly keyPem: string;
}

export interface TestCa {
  readonly certPem: string;
  /** Issues an ECDSA P-256 leaf for `names` (subjectAltName DNS entries). */
  issue(names: readonly string[]): Promise<TestCertificate>;
  cleanup(): Promise<void>;
}

/** A throwaway certificate authority made with the real openssl CLI (Debian package openssl). */
export async function createTestCa(): Promise<TestCa> {
  const dir = await mkdtemp("/tmp/tk-ca-");
  const caKey = join(dir, "ca.key");
  const caCert = join(dir, "ca.pem");
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=Tako Test CA",
    "-keyout",
    caKey,
    "-out",
    caCert,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  ]);
  let serial = 1;
  return {
    certPem: await readFile(caCert, "utf8"),
    async issue(names) {
      const id = serial++;
      const key = join(dir, `${id}.key`);
      const csr = join(dir, `${id}.csr`);
      const cert = join(dir, `${id}.pem`);
      const ext = join(dir, `${id}.ext`);
      await writeFile(ext, `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}\n`);
      await run("openssl", [
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        `/CN=${names[0]}`,
        "-keyout",
        key,
        "-out",
        csr,
      ]);
      await run("openssl", [
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        caCert,
        "-CAkey",
        caKey,
        "-set_serial",
        String(1000 + id),
        "-days",
        "2",
        "-extfile",
        ext,
        "-out",
        cert,
      ]);
      return { names, certPem: await readFile(cert, "utf8"), keyPem: await readFile(key, "utf8") };
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
