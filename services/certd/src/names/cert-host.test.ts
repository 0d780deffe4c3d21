import assert from "node:assert/strict";
import { test } from "node:test";
import { TakoError } from "@tako/errors";
import { hostOfKey, isPrivateName, parseCertHost } from "./cert-host.js";

test("names are normalised: lowercase, no trailing dot, punycode", () => {
  assert.equal(parseCertHost("App.Example.COM.").name, "app.example.com");
  assert.equal(parseCertHost("bücher.example").name, "xn--bcher-kva.example");
  const wildcard = parseCertHost("*.Apps.Example.com");
  assert.deepEqual(wildcard, {
    name: "*.apps.example.com",
    wildcard: true,
    base: "apps.example.com",
    isPrivate: false,
    key: "_wildcard.apps.example.com",
  });
});

test("private and local names are recognised; public ones are not", () => {
  for (const name of [
    "localhost",
    "a.localhost",
    "intranet",
    "x.local",
    "app.test",
    "x.invalid",
    "x.example",
    "nas.home.arpa",
  ]) {
    assert.equal(isPrivateName(name), true, name);
  }
  for (const name of ["example.com", "test.com", "localhost.example.com", "home.arpa.net", "my-test.io"]) {
    assert.equal(isPrivateName(name), false, name);
  }
  assert.equal(parseCertHost("*.apps.test").isPrivate, true);
});

test("invalid hosts are refused with CERT_HOST_INVALID and a reason", () => {
  const cases: [string, RegExp][] = [
    ["", /empty/],
    ["*.test", /at least two labels/],
    ["*.com", /at least two labels/],
    ["a.*.example.com", /leftmost label/],
    ["192.168.1.1", /IP addresses/],
    ["::1", /scheme, port|IP/],
    ["app.example.com:443", /without scheme, port/],
    ["https://app.example.com", /without scheme/],
    ["bad_label.example.com", /label "bad_label"/],
    ["-a.example.com", /label "-a"/],
    [`${"a".repeat(64)}.com`, /1-63/],
    [`${"a.".repeat(130)}com`, /longer than 253/],
    ["app.123", /not a valid DNS name|numeric/],
    [
      `*.${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(50)}.com`,
      /at most 230 characters/,
    ],
  ];
  for (const [input, why] of cases) {
    assert.throws(
      () => parseCertHost(input),
      (err: unknown) => TakoError.is(err, "CERT_HOST_INVALID") && why.test(err.message),
      input,
    );
  }
});

test("storage keys map back to hosts", () => {
  assert.equal(hostOfKey("_wildcard.apps.example.com"), "*.apps.example.com");
  assert.equal(hostOfKey("app.example.com"), "app.example.com");
  assert.equal(hostOfKey("_default"), undefined);
});
