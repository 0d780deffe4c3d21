// An honest double of certd's documented contract (proto/tako/v1/certd.proto): WatchCertificates
// and WatchChallenges send a snapshot, then each change. Served with the project's RpcServer.
import { create } from "@bufbuild/protobuf";
import {
  type CertificateBundle,
  CertificateBundleSchema,
  CertificateSource,
  CertService,
  type WatchCertificatesResponse,
  WatchCertificatesResponseSchema,
  type WatchChallengesResponse,
  WatchChallengesResponseSchema,
} from "@tako/proto";
import { RpcServer } from "@tako/rpc";
import type { TestCertificate } from "./certs.js";
import { ChangeStream } from "./change-stream.js";

export class FakeCertd {
  readonly #certs = new Map<string, CertificateBundle>();
  readonly #challenges = new Map<string, string>();
  readonly #certChanges = new ChangeStream<WatchCertificatesResponse>();
  readonly #challengeChanges = new ChangeStream<WatchChallengesResponse>();
  readonly #server: RpcServer;

  constructor() {
    this.#server = new RpcServer({
      routes: (router) =>
        router.service(CertService, {
          watchCertificates: (_req, ctx) =>
            this.#certChanges.follow(
              () =>
                create(WatchCertificatesResponseSchema, {
                  snapshot: true,
                  upserted: [...this.#certs.values()],
                }),
              ctx.signal,
            ),
          watchChallenges: (_req, ctx) =>
            this.#challengeChanges.follow(
              () =>
                create(WatchChallengesResponseSchema, {
                  snapshot: true,
                  added: [...this.#challenges].map(([token, keyAuthorization]) => ({
                    token,
                    keyAuthorization,
                  })),
                }),
              ctx.signal,
            ),
        }),
    });
  }

  listen(socketPath: string): Promise<void> {
    return this.#server.listen(socketPath);
  }

  upsert(cert: TestCertificate, isDefault = false): void {
    const bundle = create(CertificateBundleSchema, {
      info: { names: [...cert.names], source: CertificateSource.SELF_SIGNED, issuer: "Tako Test CA" },
      certChainPem: cert.certPem,
      privateKeyPem: cert.keyPem,
      isDefault,
    });
    this.#certs.set(cert.names[0] ?? "", bundle);
    this.#certChanges.push(create(WatchCertificatesResponseSchema, { snapshot: false, upserted: [bundle] }));
  }

  addChallenge(token: string, keyAuthorization: string): void {
    this.#challenges.set(token, keyAuthorization);
    this.#challengeChanges.push(
      create(WatchChallengesResponseSchema, { added: [{ token, keyAuthorization }] }),
    );
  }

  removeChallenge(token: string): void {
    this.#challenges.delete(token);
    this.#challengeChanges.push(create(WatchChallengesResponseSchema, { removed: [token] }));
  }

  close(): Promise<void> {
    this.#certChanges.end();
    this.#challengeChanges.end();
    return this.#server.close();
  }
}
