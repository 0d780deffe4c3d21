// Renewal against pebble: a stored ACME certificate close to expiry is renewed by the running
// certd and the new one is what the watch pushes and what the edge serves, neither of them
// restarted; RenewCertificates renews on demand.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLogger } from "@tako/daemon";
import { waitFor } from "@tako/testkit";
import { CertificateStore, createSelfSigned, describeChain, FRESH_RENEWAL } from "../src/index.js";
import { type AcmeFixture, startAcmeFixture } from "./helpers/acme-fixture.js";
import { type CertificateWatcher, watchCertificates } from "./helpers/cert-client.js";
import { edgeServes } from "./helpers/tls-probe.js";

const DAY_MS = 24 * 60 * 60 * 1000;

let fx: AcmeFixture;
let watcher: CertificateWatcher;
/** Every certificate (serial) the watch delivered per name, in order. */
const seen = new Map<string, string[]>();

before(async () => {
  // Default renewal window (30 days); the loop looks every second.
  fx = await startAcmeFixture({ zones: ["example.com"], certd: { renewalCheckIntervalMs: 1_000 } });
  watcher = watchCertificates(fx.host.socket("certd"));
});
after(async () => {
  await watcher?.stop();
  await fx?.stop();
});

function record(name: string): string | undefined {
  const bundle = watcher.bundles.get(name);
  if (!bundle) return undefined;
  const serial = describeChain(bundle.certChainPem).serial;
  const list = seen.get(name) ?? [];
  if (list.at(-1) !== serial) list.push(serial);
  seen.set(name, list);
  return serial;
}

describe("renewal", () => {
  test("a certificate 2 days from expiry, served by the edge, is renewed and the edge serves the new one; nothing restarts", async () => {
    const pid = await fx.host.pidOf("certd");
    const edgePid = await fx.host.pidOf("edge-proxy");
    // What an ACME certificate about to expire looks like on disk, written by another process
    // (as an operator restoring a backup would): short validity, source "acme".
    const old = await createSelfSigned({
      names: ["renew.example.com"],
      validityMs: 2 * DAY_MS,
      now: Date.now(),
    });
    const oldFacts = describeChain(old.chainPem);
    const store = new CertificateStore({
      dir: fx.host.paths.certsDir,
      log: createLogger({ level: "error" }),
    });
    await store.saveIssued(
      {
        key: "renew.example.com",
        isDefault: false,
        source: "acme",
        names: ["renew.example.com"],
        app: "web",
        env: "production",
        // Not before 5 s from now: long enough to see the edge serve the old certificate first.
        renewal: { ...FRESH_RENEWAL, nextAttemptMs: Date.now() + 5_000 },
      },
      old,
    );
    await edgeServes(
      fx.host.httpsPort,
      "renew.example.com",
      (c) => c.serialNumber.toUpperCase() === oldFacts.serial,
      "the edge to serve the certificate about to expire",
    );

    const renewedSerial = await waitFor(
      () => {
        const serial = record("renew.example.com");
        return serial && serial !== oldFacts.serial ? serial : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 5, what: "the renewed certificate on the watch" },
    );
    assert.deepEqual(
      seen.get("renew.example.com"),
      [oldFacts.serial, renewedSerial],
      "old first, then the renewal",
    );
    assert.equal(await fx.host.pidOf("certd"), pid, "certd was not restarted");

    const info = (await fx.client.listCertificates({})).certificates.find(
      (c) => c.names[0] === "renew.example.com",
    );
    assert.match(info?.issuer ?? "", /^Pebble Intermediate CA/);
    assert.ok(Number(info?.notAfterUnixMs) > oldFacts.notAfterMs + 300 * DAY_MS);
    assert.equal(info?.lastError, "");
    // The edge, never restarted, now serves the renewed certificate for the name.
    await edgeServes(
      fx.host.httpsPort,
      "renew.example.com",
      (c) => c.serialNumber.toUpperCase() === renewedSerial,
      "the edge to serve the renewed certificate",
    );
    assert.equal(await fx.host.pidOf("edge-proxy"), edgePid, "the edge was not restarted");
    assert.match(await fx.host.readLogs(), /"msg":"renewing certificate".*"host":"renew\.example\.com"/);
  });

  test("a fresh certificate is left alone by the loop", async () => {
    await fx.client.ensureCertificates({ hosts: ["fresh.example.com"] });
    const first = await waitFor(() => record("fresh.example.com"));
    // The loop runs every second: give it a few passes, then it must still be the same certificate.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal(record("fresh.example.com"), first);
    assert.deepEqual(seen.get("fresh.example.com"), [first]);
  });

  test("RenewCertificates renews what expires within the window, ACME certificates only", async () => {
    await fx.client.ensureCertificates({ hosts: ["local.test"] });
    const before = record("fresh.example.com");
    // Nothing is due within the default 30 days.
    assert.deepEqual((await fx.client.renewCertificates({ withinMs: 0n })).renewed, []);
    // pebble's certificates last 5 years: a 6-year window takes every ACME certificate.
    const { renewed } = await fx.client.renewCertificates({ withinMs: BigInt(6 * 365 * DAY_MS) });
    const names = renewed.map((r) => r.names[0]).sort();
    assert.deepEqual(names, ["fresh.example.com", "renew.example.com"]);
    const after = await waitFor(() => {
      const serial = record("fresh.example.com");
      return serial !== before ? serial : undefined;
    });
    assert.notEqual(after, before);
    assert.ok(!names.includes("local.test"), "self-signed certificates are not ACME renewals");
  });

  test("RenewCertificates for a listed host renews it regardless of expiry", async () => {
    const before = record("fresh.example.com");
    const { renewed } = await fx.client.renewCertificates({ hosts: ["fresh.example.com"] });
    assert.deepEqual(
      renewed.map((r) => r.names[0]),
      ["fresh.example.com"],
    );
    await waitFor(() => (record("fresh.example.com") !== before ? true : undefined));
  });
});
