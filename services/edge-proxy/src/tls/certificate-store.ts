import { createSecureContext, type SecureContext } from "node:tls";
import type { Logger } from "@tako/daemon";

/** One certificate of certd's stream, as plain data (it also crosses IPC). */
export interface CertificateData {
  /** Names covered (subjectAltName DNS entries); the first one identifies it in removals. */
  readonly names: readonly string[];
  readonly certChainPem: string;
  readonly privateKeyPem: string;
  readonly isDefault: boolean;
}

export interface CertificateUpdate {
  readonly snapshot: boolean;
  readonly upserted: readonly CertificateData[];
  /** First names of removed certificates. */
  readonly removed: readonly string[];
}

interface Entry {
  readonly data: CertificateData;
  readonly context: SecureContext;
}

export type SniResult =
  | { readonly kind: "found"; readonly context: SecureContext }
  | { readonly kind: "missing" };

/**
 * The certificates the HTTPS listener serves, from certd's watch. Handshake lookup by SNI: the
 * exact name, else the wildcard one level up ("a.example.com" → "*.example.com"), else the
 * default certificate. With none, the handshake fails on purpose (counted as cert_missing).
 */
export class CertificateStore {
  readonly #log: Logger;
  /** First name → entry */
  readonly #byId = new Map<string, Entry>();
  /** Every covered name (lowercase) → entry */
  #byName = new Map<string, Entry>();
  #default: Entry | undefined;
  readonly #onDefaultChange: (data: CertificateData) => void;
  readonly #ticketKeys: Buffer;
  #snapshotSeen = false;

  /**
   * `ticketKeys` (48 bytes) encrypt TLS session tickets; every process of an edge generation
   * uses the same keys, so a client resumes its session whichever process it reaches.
   */
  constructor(log: Logger, ticketKeys: Buffer, onDefaultChange: (data: CertificateData) => void) {
    this.#log = log;
    this.#ticketKeys = ticketKeys;
    this.#onDefaultChange = onDefaultChange;
  }

  get ready(): boolean {
    return this.#snapshotSeen;
  }

  get size(): number {
    return this.#byId.size;
  }

  get hasDefault(): boolean {
    return this.#default !== undefined;
  }

  apply(update: CertificateUpdate): void {
    if (update.snapshot) this.#byId.clear();
    for (const id of update.removed) this.#byId.delete(id.toLowerCase());
    for (const data of update.upserted) {
      const id = data.names[0]?.toLowerCase();
      if (!id) continue;
      try {
        const context = createSecureContext({
          cert: data.certChainPem,
          key: data.privateKeyPem,
          ticketKeys: this.#ticketKeys,
        });
        this.#byId.set(id, { data, context });
      } catch (err) {
        this.#log.error("unusable certificate from certd", { names: data.names.join(","), error: err });
      }
    }
    if (update.snapshot) this.#snapshotSeen = true;
    this.#reindex();
  }

  /** The context for a handshake with this SNI name. */
  lookup(servername: string): SniResult {
    const name = servername.toLowerCase().replace(/\.$/, "");
    const entry = this.#byName.get(name) ?? this.#wildcard(name) ?? this.#default;
    return entry ? { kind: "found", context: entry.context } : { kind: "missing" };
  }

  #wildcard(name: string): Entry | undefined {
    const dot = name.indexOf(".");
    return dot > 0 ? this.#byName.get(`*${name.slice(dot)}`) : undefined;
  }

  #reindex(): void {
    const byName = new Map<string, Entry>();
    let fallback: Entry | undefined;
    for (const entry of this.#byId.values()) {
      for (const n of entry.data.names) if (!byName.has(n.toLowerCase())) byName.set(n.toLowerCase(), entry);
      if (entry.data.isDefault) fallback = entry;
    }
    this.#byName = byName;
    if (fallback && fallback !== this.#default) this.#onDefaultChange(fallback.data);
    this.#default = fallback;
  }
}
