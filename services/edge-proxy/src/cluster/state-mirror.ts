import type { ChallengeUpdate } from "../acme/challenge-store.js";
import type { CertificateData, CertificateUpdate } from "../tls/certificate-store.js";
import type { AppEndpointsData, EndpointUpdate } from "../upstream/endpoint-state.js";

/**
 * The latest complete state of the watch streams, kept by the primary so a helper process that
 * starts (or restarts) later gets a snapshot equal to what the primary serves with.
 */
export class StateMirror {
  readonly #apps = new Map<string, AppEndpointsData>();
  readonly #certs = new Map<string, CertificateData>();
  readonly #challenges = new Map<string, string>();

  endpoints(update: EndpointUpdate): void {
    if (update.snapshot) this.#apps.clear();
    for (const key of update.removed) this.#apps.delete(key);
    for (const app of update.apps) this.#apps.set(`${app.app}/${app.env}`, app);
  }

  certificates(update: CertificateUpdate): void {
    if (update.snapshot) this.#certs.clear();
    for (const id of update.removed) this.#certs.delete(id.toLowerCase());
    for (const c of update.upserted) if (c.names[0]) this.#certs.set(c.names[0].toLowerCase(), c);
  }

  challenges(update: ChallengeUpdate): void {
    if (update.snapshot) this.#challenges.clear();
    for (const token of update.removed) this.#challenges.delete(token);
    for (const c of update.added) this.#challenges.set(c.token, c.keyAuthorization);
  }

  snapshot(): { endpoints: EndpointUpdate; certificates: CertificateUpdate; challenges: ChallengeUpdate } {
    return {
      endpoints: { snapshot: true, removed: [], apps: [...this.#apps.values()] },
      certificates: { snapshot: true, removed: [], upserted: [...this.#certs.values()] },
      challenges: {
        snapshot: true,
        removed: [],
        added: [...this.#challenges].map(([token, keyAuthorization]) => ({ token, keyAuthorization })),
      },
    };
  }
}
