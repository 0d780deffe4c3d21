// `tako servers setup-wildcard` end to end below the CLI: AgentService.SetDnsProvider on the
// management socket is forwarded by agentd to certd, which proves the credentials against a real
// DNS server (BIND) before storing them; certd's refusal reaches the caller with its reason.
import assert from "node:assert/strict";
import { access, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { TakoError } from "@tako/errors";
import { AgentService } from "@tako/proto";
import { createRpcChannel, createRpcClient, type RpcChannel } from "@tako/rpc";
import { type DnsServer, startDnsServer, startTestHost, type TestHost } from "@tako/testkit";

let dns: DnsServer;
let host: TestHost;
let channel: RpcChannel;

before(async () => {
  dns = await startDnsServer({ zones: ["example.com"] });
  host = await startTestHost();
  channel = createRpcChannel(host.socket("agentd"), { timeoutMs: 60_000 });
});
after(async () => {
  channel?.close();
  await host?.stop();
  await dns?.stop();
});

const request = (secret: string) => ({
  zone: "example.com",
  provider: {
    case: "rfc2136" as const,
    value: {
      server: dns.address,
      tsigKeyName: dns.tsig.name,
      tsigSecret: secret,
      tsigAlgorithm: "hmac-sha256",
    },
  },
});

test("credentials the DNS server rejects come back through agentd with certd's reason, and are not stored", async () => {
  const agent = createRpcClient(AgentService, channel);
  await assert.rejects(
    agent.setDnsProvider(request(Buffer.alloc(32, 1).toString("base64"))),
    (err: unknown) => TakoError.is(err, "DNS_PROVIDER_REJECTED") && /BADSIG/.test(err.message),
  );
  await assert.rejects(access(join(host.paths.certsDir, "dns-providers.json")));
});

test("valid credentials are stored by certd, readable by root only", async () => {
  await createRpcClient(AgentService, channel).setDnsProvider(request(dns.tsig.secret));
  assert.equal((await stat(join(host.paths.certsDir, "dns-providers.json"))).mode & 0o777, 0o600);
});
