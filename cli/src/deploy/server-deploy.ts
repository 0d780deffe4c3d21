import { createReadStream } from "node:fs";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { TakoError } from "@tako/errors";
import {
  type DeployDone,
  type DeployRequest,
  DeployRequestSchema,
  type DeployStartSchema,
  type DeployStep,
} from "@tako/proto";
import type { AgentClient } from "../ssh/remote-agent.js";

/** Artifact chunks sent per message (the contract's limit is 1 MiB). */
export const CHUNK_BYTES = 1 << 20;
/** A whole deploy of one server may take this long (installs and release commands included). */
export const DEPLOY_TIMEOUT_MS = 60 * 60_000;

/** Where one server's deploy stands. */
export type ServerDeployPhase =
  | { readonly kind: "starting" }
  | { readonly kind: "uploading"; readonly sentBytes: number; readonly totalBytes: number }
  | { readonly kind: "preparing" }
  | { readonly kind: "prepared" }
  | { readonly kind: "rolling-out" }
  | { readonly kind: "done"; readonly done: DeployDone }
  | { readonly kind: "failed"; readonly error: TakoError };

export interface ServerDeployEvents {
  onPhase?(phase: ServerDeployPhase): void;
  onStep?(step: DeployStep): void;
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // observed through other promises; never unhandled
  return { promise, resolve, reject };
}

/**
 * Drives one server's Deploy stream: start → (upload) → prepared, then waits for proceed() →
 * steps → done. The coordinator awaits `prepared` on every server before letting any proceed,
 * and `releaseFinished` on the leader before the followers. abort() cancels the stream: the host
 * then releases its deploy lock and keeps the previous release.
 */
export class ServerDeploy {
  readonly server: string;
  readonly prepared: Promise<void>;
  /** Resolves when the host has run the release command (or will not run one). */
  readonly releaseFinished: Promise<void>;
  readonly done: Promise<DeployDone>;
  readonly steps: DeployStep[] = [];
  #phase: ServerDeployPhase = { kind: "starting" };
  readonly #abort = new AbortController();
  readonly #proceed = deferred<void>();
  readonly #events: ServerDeployEvents;

  constructor(
    server: string,
    client: AgentClient,
    start: MessageInitShape<typeof DeployStartSchema>,
    artifactPath: string,
    events: ServerDeployEvents = {},
  ) {
    this.server = server;
    this.#events = events;
    const prepared = deferred<void>();
    const release = deferred<void>();
    const accepted = deferred<boolean>();
    this.prepared = prepared.promise;
    this.releaseFinished = release.promise;
    const totalBytes = Number(start.artifactSizeBytes ?? 0);
    const self = this;

    async function* requests(): AsyncGenerator<DeployRequest> {
      yield create(DeployRequestSchema, { msg: { case: "start", value: start } });
      if (await accepted.promise) {
        let sentBytes = 0;
        for await (const chunk of createReadStream(artifactPath, { highWaterMark: CHUNK_BYTES })) {
          const bytes = chunk as Buffer;
          yield create(DeployRequestSchema, { msg: { case: "chunk", value: bytes } });
          sentBytes += bytes.length;
          self.#setPhase({ kind: "uploading", sentBytes, totalBytes });
        }
        self.#setPhase({ kind: "preparing" });
      }
      await self.#proceed.promise;
      yield create(DeployRequestSchema, { msg: { case: "proceed", value: {} } });
    }

    this.done = (async () => {
      let result: DeployDone | undefined;
      try {
        const stream = client.deploy(requests(), {
          signal: this.#abort.signal,
          timeoutMs: DEPLOY_TIMEOUT_MS,
        });
        for await (const res of stream) {
          switch (res.msg.case) {
            case "accepted":
              this.#setPhase(
                res.msg.value.uploadRequired
                  ? { kind: "uploading", sentBytes: 0, totalBytes }
                  : { kind: "preparing" },
              );
              accepted.resolve(res.msg.value.uploadRequired);
              break;
            case "step":
              this.steps.push(res.msg.value);
              events.onStep?.(res.msg.value);
              if (res.msg.value.name === "release" && res.msg.value.finished) release.resolve();
              break;
            case "prepared":
              this.#setPhase({ kind: "prepared" });
              prepared.resolve();
              break;
            case "done":
              result = res.msg.value;
              break;
            case undefined:
              break;
          }
        }
        if (!result) {
          throw new TakoError("DEPLOY_FAILED", "the server ended the deploy without reporting it done", {
            metadata: { server },
          });
        }
        this.#setPhase({ kind: "done", done: result });
        release.resolve();
        return result;
      } catch (err) {
        const error =
          this.#abort.signal.aborted && TakoError.is(this.#abort.signal.reason)
            ? this.#abort.signal.reason
            : toError(err);
        this.#setPhase({ kind: "failed", error });
        for (const d of [accepted, prepared, release, this.#proceed]) d.reject(error);
        throw error;
      }
    })();
    this.done.catch(() => undefined);
  }

  get phase(): ServerDeployPhase {
    return this.#phase;
  }

  /** Lets the prepared deploy continue to the release command and the rollout. */
  proceed(): void {
    this.#setPhase({ kind: "rolling-out" });
    this.#proceed.resolve();
  }

  /** Cancels the stream; the host keeps the previous release. */
  abort(error: TakoError): void {
    this.#abort.abort(error);
  }

  #setPhase(phase: ServerDeployPhase): void {
    if (this.#phase.kind === "failed" || this.#phase.kind === "done") return;
    this.#phase = phase;
    this.#events.onPhase?.(phase);
  }
}

function toError(err: unknown): TakoError {
  if (TakoError.is(err)) return err;
  return new TakoError("DEPLOY_FAILED", err instanceof Error ? err.message : String(err), { cause: err });
}
