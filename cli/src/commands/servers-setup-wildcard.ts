import { create } from "@bufbuild/protobuf";
import { TakoError } from "@tako/errors";
import {
  type AgentServiceSetDnsProviderRequest,
  AgentServiceSetDnsProviderRequestSchema,
  CloudflareDnsSchema,
  Rfc2136DnsSchema,
} from "@tako/proto";
import type { Argv, CommandModule } from "yargs";
import { loadGlobalConfig, serverNamed } from "../config/global-config.js";
import { type GlobalArgs, handle, sshFrom } from "../context.js";
import { reportOutcomes } from "../output/outcomes.js";
import { loadDeployTarget } from "../project.js";
import { onEveryServer } from "../remote/server-connection.js";

interface WildcardArgs {
  readonly env: string;
  readonly zone: string;
  readonly provider: "cloudflare" | "rfc2136";
  readonly apiToken: string | undefined;
  readonly zoneId: string | undefined;
  readonly dnsServer: string | undefined;
  readonly keyName: string | undefined;
  readonly secret: string | undefined;
  readonly algorithm: string;
}

export const serversSetupWildcardCommand: CommandModule<GlobalArgs, WildcardArgs & GlobalArgs> = {
  command: "setup-wildcard",
  describe: "Give the servers of an environment DNS credentials, for wildcard certificates (DNS-01)",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option("env", {
        type: "string",
        default: "production",
        describe: "Environment whose servers get the credentials",
      })
      .option("zone", { type: "string", demandOption: true, describe: "DNS zone, e.g. example.com" })
      .option("provider", { choices: ["cloudflare", "rfc2136"] as const, demandOption: true })
      .option("api-token", {
        type: "string",
        describe: "cloudflare: API token with Zone.DNS edit (or TAKO_DNS_API_TOKEN)",
      })
      .option("zone-id", { type: "string", describe: "cloudflare: zone id (looked up when omitted)" })
      .option("dns-server", { type: "string", describe: "rfc2136: authoritative server, host:port" })
      .option("key-name", { type: "string", describe: "rfc2136: TSIG key name" })
      .option("secret", { type: "string", describe: "rfc2136: base64 TSIG secret (or TAKO_DNS_TSIG_SECRET)" })
      .option("algorithm", { type: "string", default: "hmac-sha256", describe: "rfc2136: TSIG algorithm" })
      .example(
        "$0 servers setup-wildcard --zone example.com --provider cloudflare --api-token …",
        "",
      ) as unknown as Argv<WildcardArgs & GlobalArgs>,
  handler: handle<WildcardArgs>(async (args, term) => {
    const request = create(AgentServiceSetDnsProviderRequestSchema, {
      zone: args.zone,
      provider: provider(args),
    });
    const { deployment } = await loadDeployTarget(args, args.env);
    const config = await loadGlobalConfig();
    const servers = deployment.servers.map((name) => serverNamed(config, name));
    if (args.dryRun) {
      term.result(
        `Dry run: would set ${args.provider} credentials for ${args.zone} on ${deployment.servers.join(", ")}.`,
        {
          ok: true,
          dryRun: true,
        },
      );
      return;
    }
    const outcomes = await onEveryServer(servers, sshFrom(args, term), async (c) => {
      await c.agent.client.setDnsProvider(request);
      return `DNS credentials for ${args.zone} stored`;
    });
    reportOutcomes(term, outcomes, (v) => v);
  }),
};

function provider(args: WildcardArgs): AgentServiceSetDnsProviderRequest["provider"] {
  if (args.provider === "cloudflare") {
    const apiToken = args.apiToken ?? process.env.TAKO_DNS_API_TOKEN;
    if (!apiToken) throw missing("--api-token (or TAKO_DNS_API_TOKEN)");
    return {
      case: "cloudflare",
      value: create(CloudflareDnsSchema, { apiToken, zoneId: args.zoneId ?? "" }),
    };
  }
  const secret = args.secret ?? process.env.TAKO_DNS_TSIG_SECRET;
  if (!args.dnsServer) throw missing("--dns-server");
  if (!args.keyName) throw missing("--key-name");
  if (!secret) throw missing("--secret (or TAKO_DNS_TSIG_SECRET)");
  return {
    case: "rfc2136",
    value: create(Rfc2136DnsSchema, {
      server: args.dnsServer,
      tsigKeyName: args.keyName,
      tsigSecret: secret,
      tsigAlgorithm: args.algorithm,
    }),
  };
}

function missing(flag: string): TakoError {
  return new TakoError("CONFIG_INVALID", `this provider needs ${flag}`, {
    hint: "See `tako servers setup-wildcard --help` for the flags of each provider.",
  });
}
