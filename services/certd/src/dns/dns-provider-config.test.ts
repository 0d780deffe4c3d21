import assert from "node:assert/strict";
import { test } from "node:test";
import { TakoError } from "@tako/errors";
import { type DnsProviderConfig, parseDnsProviderConfig, providerForName } from "./dns-provider-config.js";

const secret = Buffer.alloc(32, 1).toString("base64");

test("the longest zone containing a name is responsible for it", () => {
  const configs = ["example.com", "apps.example.com", "example.net"].map(
    (zone): DnsProviderConfig => ({ kind: "cloudflare", zone, apiToken: "t", zoneId: "" }),
  );
  assert.equal(providerForName(configs, "x.apps.example.com")?.zone, "apps.example.com");
  assert.equal(providerForName(configs, "apps.example.com")?.zone, "apps.example.com");
  assert.equal(providerForName(configs, "www.example.com")?.zone, "example.com");
  assert.equal(providerForName(configs, "notexample.com"), undefined);
});

test("RFC 2136 input is normalised and defaults to hmac-sha256", () => {
  const config = parseDnsProviderConfig("Example.COM", {
    kind: "rfc2136",
    server: " ns1.example.com:53 ",
    tsigKeyName: "tako-acme.",
    tsigSecret: secret,
    tsigAlgorithm: "",
  });
  assert.deepEqual(config, {
    kind: "rfc2136",
    zone: "example.com",
    server: "ns1.example.com:53",
    tsigKeyName: "tako-acme",
    tsigSecret: secret,
    tsigAlgorithm: "hmac-sha256",
  });
});

test("bad input names the problem", () => {
  const bad = (zone: string, input: Parameters<typeof parseDnsProviderConfig>[1], why: RegExp) =>
    assert.throws(
      () => parseDnsProviderConfig(zone, input),
      (err: unknown) => TakoError.is(err, "DNS_PROVIDER_INVALID") && why.test(err.message),
    );
  bad("example.com", { kind: "none" }, /choose a provider/);
  bad("*.example.com", { kind: "cloudflare", apiToken: "t", zoneId: "" }, /zone/);
  bad("example.com", { kind: "cloudflare", apiToken: " ", zoneId: "" }, /token is empty/);
  bad("example.com", { kind: "cloudflare", apiToken: "t", zoneId: "xyz" }, /32 hex/);
  bad("example.com", { kind: "cloudflare", apiToken: "x".repeat(2000), zoneId: "" }, /longer than/);
  const rfc = {
    kind: "rfc2136" as const,
    server: "ns:53",
    tsigKeyName: "k",
    tsigSecret: secret,
    tsigAlgorithm: "",
  };
  bad("example.com", { ...rfc, server: "ns" }, /host:port/);
  bad("example.com", { ...rfc, server: "ns:99999" }, /host:port/);
  bad("example.com", { ...rfc, tsigSecret: "%%%" }, /base64/);
  bad("example.com", { ...rfc, tsigAlgorithm: "md4" }, /one of hmac-md5/);
});
