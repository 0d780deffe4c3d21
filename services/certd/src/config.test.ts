import assert from "node:assert/strict";
import { test } from "node:test";
import { parseFlags } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import { CERTD_FLAGS, LETS_ENCRYPT_DIRECTORY_URL, parseCertdSettings } from "./config.js";

const settings = (argv: string[]) =>
  parseCertdSettings({ root: "/", ...parseFlags("certd", argv, CERTD_FLAGS) });

test("defaults follow the original: Let's Encrypt, renew within 30 days, check every 12 h", () => {
  const s = settings([]);
  assert.equal(s.acme?.directoryUrl, LETS_ENCRYPT_DIRECTORY_URL);
  assert.equal(s.renewBeforeMs, 30 * 24 * 3_600_000);
  assert.equal(s.renewalCheckIntervalMs, 12 * 3_600_000);
  assert.equal(s.acme?.orderTimeoutMs, 300_000);
  assert.equal(s.httpPort, 80);
  assert.ok(Object.isFrozen(s));
});

test("--no-acme turns the CA off; flags parse into typed settings", () => {
  assert.equal(settings(["--no-acme"]).acme, undefined);
  const s = settings([
    "--acme-directory-url",
    "https://127.0.0.1:14000/dir",
    "--acme-ca-file",
    "/tmp/ca.pem",
    "--dns-check-server",
    "[::1]:5353",
  ]);
  assert.equal(s.acme?.caFile, "/tmp/ca.pem");
  assert.deepEqual(s.dnsCheckServer, { host: "::1", port: 5353 });
});

test("bad values are CONFIG_INVALID naming the flag and an example", () => {
  const cases: [string[], RegExp][] = [
    [["--acme-ca-file", "ca.pem"], /--acme-ca-file must be an absolute path.*example/],
    [["--acme-email", "nobody"], /--acme-email/],
    [["--acme-directory-url", "ftp://x"], /--acme-directory-url must be an https/],
    [["--dns-check-server", "localhost"], /--dns-check-server must be host:port/],
    [["--retry-min-ms", "1000", "--retry-max-ms", "10"], /--retry-max-ms must be at least/],
  ];
  for (const [argv, why] of cases) {
    assert.throws(
      () => settings(argv),
      (err: unknown) => TakoError.is(err, "CONFIG_INVALID") && why.test(err.message),
      argv.join(" "),
    );
  }
  assert.throws(
    () => settings(["--renew-before-ms", "5"]),
    /--renew-before-ms must be an integer from 60000/,
  );
});
