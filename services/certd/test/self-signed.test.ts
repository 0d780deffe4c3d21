// certd on a real local host without a CA in reach: private names get self-signed certificates,
// a default certificate always exists, keys are 0600, bad input changes nothing, stored
// certificates survive a reload, and the watch stream follows certd across it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { access, readdir, readFile, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { TakoError } from "@tako/errors";
import { CertificateSource } from "@tako/proto";
import { startTestHost, type TestHost, waitFor } from "@tako/testkit";
import { DEFAULT_CERT_NAME } from "../src/index.js";
import {
  type CertClient,
  type CertificateWatcher,
  type ChallengeWatcher,
  certClient,
  watchCertificates,
  watchChallenges,
} from "./helpers/cert-client.js";
import { edgeServes, peerCertificate } from "./helpers/tls-probe.js";

let host: TestHost;
let client: CertClient;
let closeClient: () => void;

before(async () => {
  host = await startTestHost({ daemons: ["certd", "edge-proxy"] });
  ({ client, close: closeClient } = certClient(host.socket("certd")));
});
after(async () => {
  closeClient?.();
  await host?.stop();
});

async function entries(): Promise<string[]> {
  return (await readdir(host.paths.certsDir)).filter((e) => !e.startsWith(".")).sort();
}

describe("self-signed certificates", () => {
  test("private and local names get self-signed certificates covering exactly that name", async () => {
    const res = await client.ensureCertificates({
      hosts: ["app.test", "*.apps.localhost", "printer.local", "intranet", "Web.Home.Arpa."],
      app: "web",
      env: "production",
    });
    assert.deepEqual(
      res.certificates.map((c) => c.names),
      [["app.test"], ["*.apps.localhost"], ["printer.local"], ["intranet"], ["web.home.arpa"]],
    );
    for (const info of res.certificates) {
      assert.equal(info.source, CertificateSource.SELF_SIGNED);
      assert.equal(info.issuer, info.names[0], "self-signed: issuer is the subject");
      assert.equal(info.lastError, "");
      assert.ok(info.notAfterUnixMs > BigInt(Date.now() + 300 * 24 * 3600 * 1000));
    }
  });

  test("keys are stored 0600 next to the chain and readable metadata", async () => {
    const dir = join(host.paths.certsDir, "app.test");
    assert.equal((await stat(join(dir, "privkey.pem"))).mode & 0o777, 0o600);
    assert.equal((await stat(host.paths.certsDir)).mode & 0o777, 0o700);
    const meta = JSON.parse(await readFile(join(dir, "metadata.json"), "utf8"));
    assert.equal(meta.source, "self-signed");
    assert.deepEqual(meta.names, ["app.test"]);
    assert.equal(meta.issuer, "app.test");
    assert.equal(meta.lastError, "");
    assert.equal(meta.app, "web");
    const cert = new X509Certificate(await readFile(join(dir, "fullchain.pem")));
    assert.equal(new Date(meta.notAfter).getTime(), Date.parse(cert.validTo));
    assert.equal(cert.issuer, cert.subject);
    assert.ok(cert.verify(cert.publicKey), "signed by its own key");
    // The wildcard is stored under a name without "*".
    assert.ok((await entries()).includes("_wildcard.apps.localhost"));
  });

  test("the watch starts with a snapshot holding the default certificate and every stored one", async () => {
    const watcher = watchCertificates(host.socket("certd"));
    try {
      await waitFor(() => watcher.snapshots() > 0, { what: "the snapshot" });
      const defaults = [...watcher.bundles.values()].filter((b) => b.isDefault);
      assert.equal(defaults.length, 1);
      assert.deepEqual(defaults[0]?.info?.names, [DEFAULT_CERT_NAME]);
      assert.ok(watcher.bundles.has("app.test"));
      assert.ok(watcher.bundles.has("*.apps.localhost"));
    } finally {
      await watcher.stop();
    }
  });

  test("the edge serves them by SNI: exact name, then wildcard, then the default certificate", async () => {
    const exact = await edgeServes(
      host.httpsPort,
      "app.test",
      (c) => c.subject === "CN=app.test",
      "app.test",
    );
    assert.equal(exact.checkHost("app.test"), "app.test");
    const wildcard = await edgeServes(
      host.httpsPort,
      "api.apps.localhost",
      (c) => c.checkHost("api.apps.localhost") !== undefined,
      "the wildcard",
    );
    assert.equal(wildcard.subject, "CN=*.apps.localhost");
    // No certificate for the name, or no SNI at all: the default certificate completes the handshake.
    assert.match(
      (await peerCertificate(host.httpsPort, "unknown.example.com")).subject,
      /Tako default certificate/,
    );
    assert.match((await peerCertificate(host.httpsPort, undefined)).subject, /Tako default certificate/);
  });

  test("asking again reuses the stored certificate", async () => {
    const before = (await client.listCertificates({})).certificates.find((c) => c.names[0] === "app.test");
    await client.ensureCertificates({ hosts: ["app.test"] });
    const again = (await client.listCertificates({})).certificates.find((c) => c.names[0] === "app.test");
    assert.equal(again?.notAfterUnixMs, before?.notAfterUnixMs);
    assert.equal(again?.notBeforeUnixMs, before?.notBeforeUnixMs);
  });

  test("bad hosts are refused with CERT_HOST_INVALID and change nothing", async () => {
    const stored = await entries();
    const listed = (await client.listCertificates({})).certificates.length;
    const bad = [
      "*.test",
      "10.0.0.1",
      "app test",
      "a..b",
      "-x.example",
      "https://app.test",
      "*.*.x.test",
      `${"x".repeat(64)}.test`,
      "",
    ];
    for (const hostname of bad) {
      await assert.rejects(
        client.ensureCertificates({ hosts: ["fine.test", hostname] }),
        (err: unknown) => TakoError.is(err, "CERT_HOST_INVALID") && err.message.length > 0,
        `"${hostname}" is refused`,
      );
    }
    await assert.rejects(
      client.ensureCertificates({ hosts: Array.from({ length: 101 }, (_, i) => `h${i}.test`) }),
      (err: unknown) => TakoError.is(err, "CERT_HOST_INVALID"),
    );
    await assert.rejects(
      client.ensureCertificates({ hosts: ["fine.test"], app: "x".repeat(200) }),
      (err: unknown) => TakoError.is(err, "INVALID_ARGUMENT") && /app must be at most 128/.test(err.message),
    );
    await assert.rejects(
      client.renewCertificates({ hosts: Array.from({ length: 101 }, (_, i) => `h${i}.test`) }),
      (err: unknown) => TakoError.is(err, "CERT_HOST_INVALID"),
    );
    assert.deepEqual(await entries(), stored, "nothing was written, not even fine.test");
    assert.equal((await client.listCertificates({})).certificates.length, listed);
  });

  test("the wildcard refusal says what to use instead", async () => {
    await assert.rejects(client.ensureCertificates({ hosts: ["*.test"] }), /use \*\.<name>\.test/);
  });
});

describe("across a reload", () => {
  let watcher: CertificateWatcher;
  before(() => {
    watcher = watchCertificates(host.socket("certd"));
  });
  after(() => watcher?.stop());

  test("the successor serves the stored certificates and the watch reconnects to it", async () => {
    await waitFor(() => watcher.snapshots() === 1, { what: "the first snapshot" });
    const pemBefore = watcher.bundles.get("app.test")?.certChainPem;
    assert.ok(pemBefore);
    const oldPid = await host.pidOf("certd");
    process.kill(oldPid, "SIGHUP");
    await waitFor(async () => (await host.pidOf("certd").catch(() => oldPid)) !== oldPid, {
      timeoutMs: 30_000,
      what: "a new certd process",
    });
    await waitFor(() => watcher.snapshots() >= 2, {
      timeoutMs: 30_000,
      what: "a snapshot from the successor",
    });
    assert.equal(
      watcher.bundles.get("app.test")?.certChainPem,
      pemBefore,
      "same certificate, loaded from disk",
    );

    // A certificate made by the successor arrives on the same (reconnected) watch.
    await client.ensureCertificates({ hosts: ["after-reload.test"] });
    await waitFor(() => watcher.bundles.has("after-reload.test"), {
      what: "the new certificate on the watch",
    });
    // The edge's own watch reconnected to the successor too: it serves the new certificate.
    await edgeServes(
      host.httpsPort,
      "after-reload.test",
      (c) => c.subject === "CN=after-reload.test",
      "the edge to serve a certificate made after the reload",
    );
  });
});

describe("with --no-acme", () => {
  let plain: TestHost;
  before(async () => {
    plain = await startTestHost({ daemons: ["certd"], certd: { noAcme: true } });
  });
  after(() => plain?.stop());

  test("a public name gets a self-signed certificate and no CA is contacted", async () => {
    const { client: c, close } = certClient(plain.socket("certd"));
    try {
      const res = await c.ensureCertificates({ hosts: ["www.example.com"] });
      assert.equal(res.certificates[0]?.source, CertificateSource.SELF_SIGNED);
      assert.doesNotMatch(await plain.readLogs(), /acme order created/);
    } finally {
      close();
    }
  });
});

describe("pending HTTP-01 challenges are shared through the certificates directory", () => {
  let challenges: ChallengeWatcher;
  before(() => {
    challenges = watchChallenges(host.socket("certd"));
  });
  after(() => challenges?.stop());
  const file = (token: string) => join(host.paths.certsDir, "acme", "challenges", `${token}.json`);
  const challenge = (token: string, pid: number) =>
    `${JSON.stringify({ token, keyAuthorization: `${token}.thumbprint`, host: "x.example.com", pid })}\n`;

  test("a challenge another live certd process wrote is streamed, and withdrawn when it goes", async () => {
    await waitFor(() => challenges.snapshots() > 0, { what: "the challenge snapshot" });
    // As the predecessor of a reload would: a live process (this test) owns it.
    const token = "predecessorToken-0123456789abcdef";
    await writeFile(file(token), challenge(token, process.pid));
    await waitFor(() => challenges.tokens.get(token) === `${token}.thumbprint`, {
      what: "the challenge on the watch",
    });
    await unlink(file(token));
    await waitFor(() => !challenges.tokens.has(token) || undefined, { what: "the withdrawal on the watch" });
  });

  test("challenges left by a dead process are dropped when certd starts", async () => {
    const dead = spawnSync("true").pid ?? 0;
    const token = "deadProcessToken-0123456789abcdef";
    await writeFile(file(token), challenge(token, dead));
    await waitFor(() => challenges.tokens.has(token), { what: "the stale challenge to be seen first" });
    const oldPid = await host.pidOf("certd");
    const seenSnapshots = challenges.snapshots();
    process.kill(oldPid, "SIGHUP");
    await waitFor(async () => (await host.pidOf("certd").catch(() => oldPid)) !== oldPid, {
      timeoutMs: 30_000,
    });
    await waitFor(() => challenges.snapshots() > seenSnapshots, {
      timeoutMs: 30_000,
      what: "the successor's snapshot",
    });
    assert.equal(challenges.tokens.has(token), false);
    await assert.rejects(access(file(token)), "the file is gone");
  });
});
