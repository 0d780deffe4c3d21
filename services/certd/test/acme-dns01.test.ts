// Wildcards over DNS-01 against pebble, which checks the TXT records on a real BIND server:
// RFC 2136 updates signed with TSIG straight to BIND, and Cloudflare's API (a local stand-in
// that writes to BIND). Credentials are proven before they are stored; bad ones change nothing.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { access, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { TakoError } from "@tako/errors";
import { CertificateSource } from "@tako/proto";
import { startTestHost, type TestHost, waitFor } from "@tako/testkit";
import { type AcmeFixture, startAcmeFixture } from "./helpers/acme-fixture.js";
import { type CertClient, certClient } from "./helpers/cert-client.js";
import { type FakeCloudflare, startFakeCloudflare } from "./helpers/fake-cloudflare.js";
import { edgeServes } from "./helpers/tls-probe.js";

let fx: AcmeFixture;
before(async () => {
  fx = await startAcmeFixture({
    zones: ["example.com", "example.net", "example.org"],
    // A 10-minute backoff: only SetDnsProvider's own retry can issue the waiting wildcard in time.
    certd: { retryMinMs: 600_000 },
  });
});
after(() => fx?.stop());

function rfc2136(
  zone: string,
  overrides: Partial<{ server: string; secret: string; algorithm: string; key: string }> = {},
) {
  return {
    zone,
    provider: {
      case: "rfc2136" as const,
      value: {
        server: overrides.server ?? fx.dns.address,
        tsigKeyName: overrides.key ?? fx.dns.tsig.name,
        tsigSecret: overrides.secret ?? fx.dns.tsig.secret,
        tsigAlgorithm: overrides.algorithm ?? fx.dns.tsig.algorithm,
      },
    },
  };
}

async function leafOf(client: CertClient, name: string): Promise<X509Certificate | undefined> {
  const info = (await client.listCertificates({})).certificates.find((c) => c.names[0] === name);
  if (!info || info.notAfterUnixMs === 0n) return undefined;
  const key = name.startsWith("*.") ? `_wildcard.${name.slice(2)}` : name;
  return new X509Certificate(await readFile(join(fx.host.paths.certsDir, key, "fullchain.pem")));
}

const providersFile = () => join(fx.host.paths.certsDir, "dns-providers.json");
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe("RFC 2136 (BIND, TSIG)", () => {
  test("malformed credentials are refused with DNS_PROVIDER_INVALID", async () => {
    const cases = [
      { zone: "example.com", provider: { case: undefined } },
      rfc2136("*.example.com"),
      rfc2136("example.com", { server: "ns1.example.com" }),
      rfc2136("example.com", { secret: "not base64!" }),
      rfc2136("example.com", { secret: Buffer.from("short").toString("base64") }),
      rfc2136("example.com", { algorithm: "hmac-sha3" }),
      rfc2136("example.com", { key: "bad key" }),
    ];
    for (const req of cases) {
      await assert.rejects(
        fx.client.setDnsProvider(req as Parameters<CertClient["setDnsProvider"]>[0]),
        (err: unknown) => TakoError.is(err, "DNS_PROVIDER_INVALID"),
        JSON.stringify(req),
      );
    }
    assert.equal(await exists(providersFile()), false);
  });

  test("credentials the server rejects are not stored, and the server's verdict is reported", async () => {
    const wrong = Buffer.alloc(32, 7).toString("base64");
    await assert.rejects(
      fx.client.setDnsProvider(rfc2136("example.com", { secret: wrong })),
      (err: unknown) => {
        return TakoError.is(err, "DNS_PROVIDER_REJECTED") && /BADSIG/.test(err.message);
      },
    );
    await assert.rejects(fx.client.setDnsProvider(rfc2136("example.com", { key: "someone-else" })), /BADKEY/);
    // A zone the server is not authoritative for.
    await assert.rejects(fx.client.setDnsProvider(rfc2136("example.biz")), /NOTAUTH/);
    assert.equal(await exists(providersFile()), false);
  });

  test("a wildcard is issued over DNS-01 and the TXT record is removed afterwards", async () => {
    await fx.client.setDnsProvider(rfc2136("example.com"));
    assert.equal((await stat(providersFile())).mode & 0o777, 0o600);
    const res = await fx.client.ensureCertificates({
      hosts: ["*.wild.example.com"],
      app: "web",
      env: "production",
    });
    assert.equal(res.certificates[0]?.source, CertificateSource.ACME);
    assert.deepEqual(res.certificates[0]?.names, ["*.wild.example.com"]);
    assert.match(res.certificates[0]?.issuer ?? "", /^Pebble Intermediate CA/);
    assert.match(await fx.host.readLogs(), /"msg":"dns-01 record visible".*"provider":"rfc2136"/);
    assert.deepEqual(await fx.dns.txt("_acme-challenge.wild.example.com"), []);

    const leaf = await leafOf(fx.client, "*.wild.example.com");
    assert.equal(leaf?.checkHost("api.wild.example.com"), "*.wild.example.com");
    // The edge serves it for any name one level below.
    await edgeServes(
      fx.host.httpsPort,
      "api.wild.example.com",
      (c) => c.fingerprint256 === leaf?.fingerprint256,
      "the edge to serve the wildcard",
    );
  });

  test("a wildcard without credentials waits for them, then is issued without being asked again", async () => {
    await assert.rejects(
      fx.client.ensureCertificates({ hosts: ["*.apps.example.net"] }),
      (err: unknown) => TakoError.is(err, "DNS_PROVIDER_MISSING") && /setup-wildcard/.test(err.hint),
    );
    const pending = (await fx.client.listCertificates({})).certificates.find(
      (c) => c.names[0] === "*.apps.example.net",
    );
    assert.equal(pending?.notAfterUnixMs, 0n);
    assert.match(pending?.lastError ?? "", /DNS-01 credentials/);
    // Setting the credentials retries the zone's waiting wildcards at once.
    await fx.client.setDnsProvider(rfc2136("example.net"));
    const leaf = await waitFor(() => leafOf(fx.client, "*.apps.example.net"), {
      timeoutMs: 60_000,
      what: "the waiting wildcard to be issued",
    });
    assert.match(leaf.issuer, /Pebble Intermediate CA/);
  });
});

describe("Cloudflare API", () => {
  let cloudflare: FakeCloudflare;
  let host: TestHost;
  let client: CertClient;
  let close: () => void;
  before(async () => {
    cloudflare = await startFakeCloudflare({ zone: "example.org", dns: fx.dns });
    host = await startTestHost({
      daemons: ["certd"],
      certd: {
        acmeDirectoryUrl: fx.pebble.directoryUrl,
        acmeCaFile: fx.pebble.caFile,
        cloudflareApiUrl: cloudflare.apiUrl,
        // Cloudflare's nameservers are unreachable here; BIND holds what the fake API wrote.
        dnsCheckServer: fx.dns.address,
      },
    });
    ({ client, close } = certClient(host.socket("certd")));
  });
  after(async () => {
    close?.();
    await host?.stop();
    await cloudflare?.stop();
  });

  const cf = (zone: string, apiToken: string, zoneId = "") => ({
    zone,
    provider: { case: "cloudflare" as const, value: { apiToken, zoneId } },
  });

  test("a token Cloudflare refuses is reported in Cloudflare's words and not stored", async () => {
    await assert.rejects(
      client.setDnsProvider(cf("example.org", "wrong-token")),
      (err: unknown) =>
        TakoError.is(err, "DNS_PROVIDER_REJECTED") && /Invalid access token \(code 9109\)/.test(err.message),
    );
    await assert.rejects(client.setDnsProvider(cf("example.biz", cloudflare.token)), /no zone example\.biz/);
    await assert.rejects(
      client.setDnsProvider(cf("example.org", cloudflare.token, "f".repeat(32))),
      /could not route/i,
    );
    assert.equal(await exists(join(host.paths.certsDir, "dns-providers.json")), false);
  });

  test("a wildcard is issued through the API: TXT created, validated by the CA, deleted", async () => {
    await client.setDnsProvider(cf("example.org", cloudflare.token));
    const res = await client.ensureCertificates({ hosts: ["*.cf.example.org"] });
    assert.deepEqual(res.certificates[0]?.names, ["*.cf.example.org"]);
    assert.match(res.certificates[0]?.issuer ?? "", /^Pebble Intermediate CA/);
    const creates = cloudflare.calls.filter((c) => c.method === "POST");
    assert.equal(creates.length, 1);
    assert.deepEqual(
      { ...(creates[0]?.body as object), content: "…" },
      { type: "TXT", name: "_acme-challenge.cf.example.org", content: "…", ttl: 60 },
    );
    assert.equal(cloudflare.calls.filter((c) => c.method === "DELETE").length, 1);
    assert.equal(cloudflare.records.size, 0);
    assert.deepEqual(await fx.dns.txt("_acme-challenge.cf.example.org"), []);
  });
});
