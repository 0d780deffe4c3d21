/** One pending HTTP-01 challenge, as plain data (it also crosses IPC). */
export interface ChallengeUpdate {
  readonly snapshot: boolean;
  readonly added: readonly { readonly token: string; readonly keyAuthorization: string }[];
  readonly removed: readonly string[];
}

/** certd's pending HTTP-01 challenges, answered under /.well-known/acme-challenge/{token}. */
export class ChallengeStore {
  readonly #tokens = new Map<string, string>();

  apply(update: ChallengeUpdate): void {
    if (update.snapshot) this.#tokens.clear();
    for (const token of update.removed) this.#tokens.delete(token);
    for (const c of update.added) this.#tokens.set(c.token, c.keyAuthorization);
  }

  keyAuthorization(token: string): string | undefined {
    return this.#tokens.get(token);
  }

  get size(): number {
    return this.#tokens.size;
  }
}
