import { create } from "@bufbuild/protobuf";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import {
  CertService,
  EnsureCertificatesResponseSchema,
  ListCertificatesResponseSchema,
  RenewCertificatesResponseSchema,
  type SetDnsProviderRequest,
  SetDnsProviderResponseSchema,
  type WatchCertificatesResponse,
  WatchCertificatesResponseSchema,
  type WatchChallengesResponse,
  WatchChallengesResponseSchema,
} from "@tako/proto";
import type { CertdRuntime } from "../certd-runtime.js";
import type { DnsProviderInput } from "../dns/dns-provider-config.js";
import type { CertificateChange } from "../store/certificate-store.js";
import { namesOf, toBundle, toInfo } from "./proto-convert.js";

function providerInput(req: SetDnsProviderRequest): DnsProviderInput {
  switch (req.provider.case) {
    case "cloudflare":
      return { kind: "cloudflare", apiToken: req.provider.value.apiToken, zoneId: req.provider.value.zoneId };
    case "rfc2136":
      return {
        kind: "rfc2136",
        server: req.provider.value.server,
        tsigKeyName: req.provider.value.tsigKeyName,
        tsigSecret: req.provider.value.tsigSecret,
        tsigAlgorithm: req.provider.value.tsigAlgorithm,
      };
    case undefined:
      return { kind: "none" };
  }
}

/** uint64 from the wire, clamped to what a millisecond count can be. */
function toMs(value: bigint): number {
  return Number(value > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : value);
}

/** What the edge hears about one change; nothing for a host that has no certificate yet. */
function certificateMessage(change: CertificateChange): WatchCertificatesResponse | undefined {
  if (change.type === "upsert") {
    const bundle = toBundle(change.record);
    return bundle && create(WatchCertificatesResponseSchema, { upserted: [bundle] });
  }
  if (change.record.state !== "issued") return undefined;
  return create(WatchCertificatesResponseSchema, {
    removed: [namesOf(change.record)[0] ?? change.record.meta.key],
  });
}

async function* watchCertificates(rt: CertdRuntime, ctx: HandlerContext) {
  // Subscribe before reading the snapshot: a change in between arrives (again) afterwards.
  const changes = rt.certificateChanges.subscribe(ctx.signal);
  try {
    await rt.store.refresh();
    const upserted = rt.store.all().flatMap((r) => toBundle(r) ?? []);
    yield create(WatchCertificatesResponseSchema, { snapshot: true, upserted });
    for await (const change of changes) {
      const message = certificateMessage(change);
      if (message) yield message;
    }
  } finally {
    await changes.return();
  }
}

async function* watchChallenges(rt: CertdRuntime, ctx: HandlerContext) {
  const changes = rt.challengeChanges.subscribe(ctx.signal);
  try {
    await rt.challenges.refresh();
    const added = rt.challenges.all().map(({ token, keyAuthorization }) => ({ token, keyAuthorization }));
    yield create(WatchChallengesResponseSchema, { snapshot: true, added });
    for await (const change of changes) {
      const message: WatchChallengesResponse =
        change.type === "add"
          ? create(WatchChallengesResponseSchema, {
              added: [{ token: change.challenge.token, keyAuthorization: change.challenge.keyAuthorization }],
            })
          : create(WatchChallengesResponseSchema, { removed: [change.token] });
      yield message;
    }
  } finally {
    await changes.return();
  }
}

/** Thin handlers of tako.v1.CertService: decode, call the domain, encode. */
export function certServiceRoutes(runtime: () => CertdRuntime) {
  return (router: ConnectRouter) => {
    router.service(CertService, {
      ensureCertificates: async (req) => {
        const records = await runtime().manager.ensure(req.hosts, { app: req.app, env: req.env });
        return create(EnsureCertificatesResponseSchema, { certificates: records.map(toInfo) });
      },
      watchCertificates: (_req, ctx) => watchCertificates(runtime(), ctx),
      watchChallenges: (_req, ctx) => watchChallenges(runtime(), ctx),
      listCertificates: () =>
        create(ListCertificatesResponseSchema, { certificates: runtime().manager.list().map(toInfo) }),
      setDnsProvider: async (req, ctx) => {
        await runtime().dnsCredentials.set(req.zone, providerInput(req), ctx.signal);
        return create(SetDnsProviderResponseSchema, {});
      },
      renewCertificates: async (req) => {
        const renewed = await runtime().manager.renew({ withinMs: toMs(req.withinMs), hosts: req.hosts });
        return create(RenewCertificatesResponseSchema, { renewed: renewed.map(toInfo) });
      },
    });
  };
}
