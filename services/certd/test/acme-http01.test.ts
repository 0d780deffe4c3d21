// ACME over HTTP-01 against a real CA (pebble) resolving names through a real DNS server (BIND),
// through the real edge: edge-proxy answers the token from certd's WatchChallenges stream on the
// port pebble validates on, and serves the issued certificate by SNI. Also: reuse, failures
// reported with the CA's reason, the certificate in use kept, retries with backoff.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { TakoError } from "@tako/errors";
import { CertificateSource } from "@tako/proto";
import { waitFor } from "@tako/testkit";
import { type AcmeFixture, startAcmeFixture } from "./helpers/acme-fixture.js";
import { type CertificateWatcher, watchCertificates, watchChallenges } from "./helpers/cert-client.js";
import { edgeServes } from "./helpers/tls-probe.js";

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 4_000;

let fx: AcmeFixture;
let watcher: CertificateWatcher;

before(async () => {
  fx = await startAcmeFixture({
    zones: ["example.com"],
    // Nothing listens on 127.0.0.2: pebble's connection is refused.
    records: { "example.com": ["down IN A 127.0.0.2"] },
    certd: { retryMinMs: RETRY_MIN_MS, retryMaxMs: RETRY_MAX_MS, renewalCheckIntervalMs: 500 },
  });
  watcher = watchCertificates(fx.host.socket("certd"));
});
after(async () => {
  await watcher?.stop();
  await fx?.stop();
});

async function info(name: string) {
  return (await fx.client.listCertificates({})).certificates.find((c) => c.names[0] === name);
}

/** Leaf, then issuer chain up to pebble's root: every signature checks out. */
async function assertIssuedByPebble(chainPem: string, name: string): Promise<X509Certificate> {
  const [leafPem, intermediatePem] =
    chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  assert.ok(leafPem && intermediatePem, "leaf and intermediate");
  const leaf = new X509Certificate(leafPem);
  const intermediate = new X509Certificate(intermediatePem);
  const root = new X509Certificate(await fx.pebble.rootCertificate());
  assert.ok(leaf.verify(intermediate.publicKey), "leaf signed by the intermediate");
  assert.ok(intermediate.verify(root.publicKey), "intermediate signed by pebble's root");
  assert.equal(leaf.checkHost(name), name);
  return leaf;
}

describe("HTTP-01 issuance", () => {
  test("an exact public host is issued over HTTP-01 through the edge and served by it", async () => {
    const challenges = watchChallenges(fx.host.socket("certd"));
    try {
      const res = await fx.client.ensureCertificates({
        hosts: ["app.example.com"],
        app: "web",
        env: "production",
      });
      const [cert] = res.certificates;
      assert.equal(cert?.source, CertificateSource.ACME);
      assert.deepEqual(cert?.names, ["app.example.com"]);
      assert.match(cert?.issuer ?? "", /^Pebble Intermediate CA/);
      assert.equal(cert?.lastError, "");
      // certd saw the edge serve the token before it asked the CA to validate (only the edge
      // listens on pebble's HTTP port), and withdrew it afterwards.
      const logs = await fx.host.readLogs();
      assert.match(logs, /"msg":"acme challenge valid".*"type":"http-01"/);
      assert.doesNotMatch(logs, /the edge does not serve the HTTP-01 challenge/);
      await waitFor(() => challenges.snapshots() > 0 && challenges.tokens.size === 0, {
        what: "the challenge to be withdrawn",
      });
    } finally {
      await challenges.stop();
    }

    // Stored: key 0600, chain verifies to pebble's root; pushed to the watch.
    const dir = join(fx.host.paths.certsDir, "app.example.com");
    assert.equal((await stat(join(dir, "privkey.pem"))).mode & 0o777, 0o600);
    assert.equal((await stat(join(fx.host.paths.certsDir, "acme", "account-key.pem"))).mode & 0o777, 0o600);
    const stored = await assertIssuedByPebble(
      await readFile(join(dir, "fullchain.pem"), "utf8"),
      "app.example.com",
    );
    const bundle = await waitFor(() => watcher.bundles.get("app.example.com"), {
      what: "the watch to carry it",
    });
    await assertIssuedByPebble(bundle.certChainPem, "app.example.com");
    // A TLS handshake with the edge for that name gets exactly this certificate.
    await edgeServes(
      fx.host.httpsPort,
      "app.example.com",
      (c) => c.fingerprint256 === stored.fingerprint256,
      "the edge to serve the issued certificate",
    );
  });

  test("asking again reuses the certificate: no second order", async () => {
    const first = await info("app.example.com");
    const orders = (await fx.host.readLogs()).match(/acme order created/g)?.length ?? 0;
    await fx.client.ensureCertificates({ hosts: ["app.example.com"] });
    assert.equal((await info("app.example.com"))?.notBeforeUnixMs, first?.notBeforeUnixMs);
    assert.equal((await fx.host.readLogs()).match(/acme order created/g)?.length ?? 0, orders);
  });

  test("concurrent requests for one host share one order", async () => {
    const before = (await fx.host.readLogs()).match(/acme order created/g)?.length ?? 0;
    const results = await Promise.all([
      fx.client.ensureCertificates({ hosts: ["twice.example.com"] }),
      fx.client.ensureCertificates({ hosts: ["twice.example.com"] }),
    ]);
    assert.equal(results[0].certificates[0]?.notAfterUnixMs, results[1].certificates[0]?.notAfterUnixMs);
    assert.equal((await fx.host.readLogs()).match(/acme order created/g)?.length ?? 0, before + 1);
  });
});

describe("failures", () => {
  test("a host the CA cannot reach fails with the CA's reason, recorded and logged", async () => {
    await assert.rejects(
      fx.client.ensureCertificates({ hosts: ["down.example.com"], app: "web", env: "production" }),
      (err: unknown) =>
        TakoError.is(err, "CERT_ISSUE_FAILED") &&
        /down\.example\.com/.test(err.message) &&
        /127\.0\.0\.2.*(refused|connect)/i.test(err.message),
    );
    const pending = await info("down.example.com");
    assert.equal(pending?.notAfterUnixMs, 0n, "no certificate");
    assert.match(pending?.lastError ?? "", /127\.0\.0\.2.*(refused|connect)/i);
    assert.match(await fx.host.readLogs(), /"msg":"certificate order failed".*"host":"down\.example\.com"/);
    // Nothing to serve for it; the watch never got a bundle.
    assert.equal(watcher.bundles.has("down.example.com"), false);
  });

  test("retries back off (doubling from --retry-min-ms) and succeed once the host is reachable", async () => {
    const metaPath = join(fx.host.paths.certsDir, "down.example.com", "metadata.json");
    const readMeta = async () => JSON.parse(await readFile(metaPath, "utf8"));
    const third = await waitFor(async () => ((await readMeta()).failures >= 3 ? readMeta() : undefined), {
      timeoutMs: 60_000,
      what: "three failed attempts",
    });
    // The schedule certd wrote: min * 2^(failures-1), capped.
    const expected = Math.min(RETRY_MIN_MS * 2 ** (third.failures - 1), RETRY_MAX_MS);
    assert.equal(third.nextAttemptMs - third.lastAttemptMs, expected);

    await fx.dns.nsupdate("example.com", [
      "update delete down.example.com A",
      "update add down.example.com 60 A 127.0.0.1",
    ]);
    const fixed = await waitFor(
      async () => {
        const c = await info("down.example.com");
        return c && c.notAfterUnixMs > 0n ? c : undefined;
      },
      { timeoutMs: 60_000, what: "the retried order to succeed" },
    );
    assert.equal(fixed.lastError, "");
    assert.equal((await readMeta()).failures, 0);
    await waitFor(() => watcher.bundles.get("down.example.com"), {
      what: "the recovered certificate on the watch",
    });
  });

  test("a failed renewal keeps the certificate in use and records the CA's reason", async () => {
    await fx.client.ensureCertificates({ hosts: ["keep.example.com"] });
    const good = await info("keep.example.com");
    const goodPem =
      watcher.bundles.get("keep.example.com")?.certChainPem ??
      (await waitFor(() => watcher.bundles.get("keep.example.com")?.certChainPem));
    await fx.dns.nsupdate("example.com", [
      "update delete keep.example.com A",
      "update add keep.example.com 60 A 127.0.0.2",
    ]);
    await assert.rejects(
      fx.client.renewCertificates({ hosts: ["keep.example.com"] }),
      (err: unknown) => TakoError.is(err, "CERT_ISSUE_FAILED") && /127\.0\.0\.2/.test(err.message),
    );
    const after = await info("keep.example.com");
    assert.equal(after?.notAfterUnixMs, good?.notAfterUnixMs, "same certificate");
    assert.equal(after?.notBeforeUnixMs, good?.notBeforeUnixMs);
    assert.match(after?.lastError ?? "", /127\.0\.0\.2/);
    // The edge keeps serving the same chain; only the info's last_error changed.
    const pushed = await waitFor(() => {
      const b = watcher.bundles.get("keep.example.com");
      return b?.info?.lastError ? b : undefined;
    });
    assert.equal(pushed.certChainPem, goodPem);
    const goodLeaf = new X509Certificate(goodPem);
    await edgeServes(
      fx.host.httpsPort,
      "keep.example.com",
      (c) => c.fingerprint256 === goodLeaf.fingerprint256,
      "the edge to keep serving the certificate in use",
    );
    // EnsureCertificates still succeeds: a valid certificate is in place.
    const ensured = await fx.client.ensureCertificates({ hosts: ["keep.example.com"] });
    assert.equal(ensured.certificates[0]?.notAfterUnixMs, good?.notAfterUnixMs);
    await fx.dns.nsupdate("example.com", [
      "update delete keep.example.com A",
      "update add keep.example.com 60 A 127.0.0.1",
    ]);
  });

  test("renewing a host certd does not hold is CERT_NOT_FOUND", async () => {
    await assert.rejects(fx.client.renewCertificates({ hosts: ["never.example.com"] }), (err: unknown) =>
      TakoError.is(err, "CERT_NOT_FOUND"),
    );
  });
});

describe("the ACME account", () => {
  test("an account the CA no longer knows is registered again, and the order goes through", async () => {
    const accountFile = join(fx.host.paths.certsDir, "acme", "account.json");
    const stale = `${fx.pebble.directoryUrl.replace(/\/dir$/, "")}/my-account/4242`;
    await writeFile(
      accountFile,
      JSON.stringify({ version: 1, accounts: { [fx.pebble.directoryUrl]: stale } }),
    );
    // A new certd process reads the stale URL from disk.
    const oldPid = await fx.host.pidOf("certd");
    process.kill(oldPid, "SIGHUP");
    await waitFor(async () => (await fx.host.pidOf("certd").catch(() => oldPid)) !== oldPid, {
      timeoutMs: 30_000,
      what: "a new certd process",
    });
    const res = await fx.client.ensureCertificates({ hosts: ["after-reset.example.com"] });
    assert.match(res.certificates[0]?.issuer ?? "", /^Pebble Intermediate CA/);
    assert.match(await fx.host.readLogs(), /the CA no longer knows the ACME account/);
    const accounts = JSON.parse(await readFile(accountFile, "utf8")).accounts;
    assert.notEqual(accounts[fx.pebble.directoryUrl], stale);
    assert.match(accounts[fx.pebble.directoryUrl], /\/my-account\//);
  });
});
