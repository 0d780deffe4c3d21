// The RFC 2136 client on its own against a real BIND: signed updates apply exactly the records
// asked, refusals carry the server's RCODE/TSIG error, and an unsigned "success" is not trusted.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { after, before, test } from "node:test";
import { type DnsServer, startDnsServer } from "@tako/testkit";
import { TSIG_ALGORITHMS } from "../src/dns/tsig.js";
import { sendDnsUpdate } from "../src/index.js";

let dns: DnsServer;
before(async () => {
  dns = await startDnsServer({ zones: ["example.com"], extraKeyAlgorithms: TSIG_ALGORITHMS });
});
after(() => dns?.stop());

const key = () => ({
  name: dns.tsig.name,
  algorithm: dns.tsig.algorithm,
  secret: Buffer.from(dns.tsig.secret, "base64"),
});
const base = () => ({ host: dns.host, port: dns.port, zone: "example.com", key: key(), timeoutMs: 5_000 });

test("adds and deletes exactly the TXT values asked for, long values included", async () => {
  const name = "_acme-challenge.multi.example.com";
  const long = "L".repeat(300);
  await sendDnsUpdate({
    ...base(),
    updates: [
      { op: "add", name, value: "first", ttlS: 60 },
      { op: "add", name, value: "second", ttlS: 60 },
      { op: "add", name, value: long, ttlS: 60 },
    ],
  });
  assert.deepEqual((await dns.txt(name)).sort(), [long, "first", "second"].sort());
  await sendDnsUpdate({ ...base(), updates: [{ op: "delete", name, value: "first" }] });
  assert.deepEqual((await dns.txt(name)).sort(), [long, "second"].sort());
  await sendDnsUpdate({
    ...base(),
    updates: [
      { op: "delete", name, value: "second" },
      { op: "delete", name, value: long },
    ],
  });
  assert.deepEqual(await dns.txt(name), []);
});

test("every supported HMAC algorithm signs requests BIND accepts, and verifies its signed answers", async () => {
  for (const algorithm of TSIG_ALGORITHMS) {
    const secret = Buffer.from(dns.extraKeys.get(algorithm) ?? "", "base64");
    const name = `_acme-challenge.${algorithm}.example.com`;
    const signed = { ...base(), key: { name: algorithm, algorithm, secret } };
    await sendDnsUpdate({ ...signed, updates: [{ op: "add", name, value: algorithm, ttlS: 60 }] });
    assert.deepEqual(await dns.txt(name), [algorithm], algorithm);
    await sendDnsUpdate({ ...signed, updates: [{ op: "delete", name, value: algorithm }] });
  }
  // The algorithm is part of the key: the right name and secret with another algorithm is refused.
  await assert.rejects(
    sendDnsUpdate({ ...base(), key: { ...key(), algorithm: "hmac-sha512" }, updates: [] }),
    /BADKEY/,
  );
});

test("refusals name the server's verdict and change nothing", async () => {
  const name = "_acme-challenge.refused.example.com";
  const add = [{ op: "add" as const, name, value: "x", ttlS: 60 }];
  await assert.rejects(
    sendDnsUpdate({ ...base(), key: { ...key(), secret: Buffer.alloc(32, 9) }, updates: add }),
    (err: unknown) =>
      err instanceof Error &&
      /NOTAUTH\/BADSIG/.test(err.message) &&
      (err as { rcode?: string }).rcode === "BADSIG",
  );
  await assert.rejects(sendDnsUpdate({ ...base(), zone: "example.org", updates: add }), /NOTAUTH/);
  await assert.rejects(
    sendDnsUpdate({
      ...base(),
      updates: [{ op: "add", name: "_acme-challenge.other.org", value: "x", ttlS: 60 }],
    }),
    /NOTZONE/,
  );
  assert.deepEqual(await dns.txt(name), []);
});

test("an unsigned success from an impostor is rejected; a silent server times out", async () => {
  // Answers every query with the same ID, NOERROR, and no TSIG record.
  const impostor: Server = createServer((socket) => {
    socket.once("data", (data: Buffer) => {
      const reply = Buffer.alloc(14);
      reply.writeUInt16BE(12, 0);
      data.copy(reply, 2, 2, 4); // echo the ID
      reply.writeUInt16BE(0x8000 | (5 << 11), 4); // QR, UPDATE, NOERROR
      socket.end(reply);
    });
  });
  const silent: Server = createServer(() => undefined);
  await new Promise<void>((r) => impostor.listen(0, "127.0.0.1", r));
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  try {
    await assert.rejects(
      sendDnsUpdate({ ...base(), port: (impostor.address() as { port: number }).port, updates: [] }),
      /not signed/,
    );
    await assert.rejects(
      sendDnsUpdate({
        ...base(),
        port: (silent.address() as { port: number }).port,
        timeoutMs: 300,
        updates: [],
      }),
      /no answer .* within 300 ms/,
    );
  } finally {
    silent.close();
    impostor.close();
  }
});
