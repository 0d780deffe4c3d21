import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decodeMessage,
  decodeName,
  encodeMessage,
  encodeName,
  encodeTxtRdata,
  RR_CLASS,
  RR_TYPE,
} from "./dns-wire.js";
import { signMessage, verifyResponse } from "./tsig.js";

test("names encode as length-prefixed labels; the canonical form is lowercase", () => {
  assert.deepEqual([...encodeName("Ab.c")], [2, 0x41, 0x62, 1, 0x63, 0]);
  assert.deepEqual([...encodeName("Ab.c.", true)], [2, 0x61, 0x62, 1, 0x63, 0]);
  assert.deepEqual([...encodeName("")], [0]);
  assert.throws(() => encodeName("a..b"), /bad label/);
});

test("compressed names are followed, and pointer loops are refused", () => {
  // "example.com" at 0, then "www" + pointer to 0.
  const buf = Buffer.from([
    7,
    ...Buffer.from("example"),
    3,
    ...Buffer.from("com"),
    0,
    3,
    ...Buffer.from("www"),
    0xc0,
    0,
  ]);
  assert.deepEqual(decodeName(buf, 13), { name: "www.example.com", next: 19 });
  assert.throws(() => decodeName(Buffer.from([0xc0, 0]), 0), /compression pointer/);
});

test("TXT values longer than 255 bytes are split into character-strings", () => {
  const rdata = encodeTxtRdata("x".repeat(300));
  assert.equal(rdata[0], 255);
  assert.equal(rdata[256], 45);
  assert.equal(rdata.length, 302);
  assert.deepEqual([...encodeTxtRdata("")], [0]);
});

test("a message round-trips through the encoder and decoder", () => {
  const message = {
    id: 4660,
    flags: 5 << 11,
    questions: [{ name: "example.com", type: RR_TYPE.SOA, class: RR_CLASS.IN }],
    answers: [],
    authorities: [
      {
        name: "_acme-challenge.example.com",
        type: RR_TYPE.TXT,
        class: RR_CLASS.IN,
        ttl: 60,
        rdata: encodeTxtRdata("v"),
      },
    ],
    additionals: [],
  };
  const decoded = decodeMessage(encodeMessage(message));
  assert.equal(decoded.id, 4660);
  assert.equal(decoded.flags >> 11, 5);
  assert.deepEqual(decoded.questions, message.questions);
  assert.equal(decoded.authorities[0]?.name, "_acme-challenge.example.com");
  assert.deepEqual([...(decoded.authorities[0]?.rdata ?? [])], [1, 0x76]);
  assert.throws(() => decodeMessage(Buffer.alloc(5)), /shorter than a DNS header/);
});

test("a TSIG signature verifies only with the right key and an untampered message", () => {
  const key = { name: "k", algorithm: "hmac-sha256" as const, secret: Buffer.alloc(32, 3) };
  const now = 1_700_000_000_000;
  const request = encodeMessage({
    id: 1,
    flags: 0,
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
  });
  const { signed, mac } = signMessage(request, key, now);
  assert.equal(signed.readUInt16BE(10), 1, "ARCOUNT counts the TSIG record");
  // A response signed like a server would: over the request MAC, then the response itself.
  // signMessage covers "message + variables"; prefixing the request MAC gives the response digest input.
  const decoded = decodeMessage(signed);
  assert.equal(decoded.additionals.at(-1)?.type, RR_TYPE.TSIG);
  // Verifying our own request as if it were a response fails: its MAC does not cover a request MAC.
  const verdict = verifyResponse(signed, decoded, key, mac, now);
  assert.deepEqual(verdict, { ok: false, problem: "the response's signature does not verify" });
  const unsigned = decodeMessage(request);
  assert.deepEqual(verifyResponse(request, unsigned, key, mac, now), {
    ok: false,
    problem: "the response is not signed",
  });
  const other = { ...key, name: "other" };
  assert.match(JSON.stringify(verifyResponse(signed, decoded, other, mac, now)), /another key/);
});
