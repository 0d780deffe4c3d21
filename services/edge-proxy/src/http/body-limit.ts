import { Transform, type TransformCallback } from "node:stream";

/**
 * Passes a request body through while counting it, for bodies whose size is not announced
 * (chunked HTTP/1.1, HTTP/2 without content-length). Past `maxBytes` it stops passing data and
 * calls `onExceeded` once (the caller answers 413 and aborts the upstream request).
 */
export class BodyLimit extends Transform {
  readonly #maxBytes: number;
  readonly #onExceeded: () => void;
  #received = 0;
  #exceeded = false;

  constructor(maxBytes: number, onExceeded: () => void) {
    super();
    this.#maxBytes = maxBytes;
    this.#onExceeded = onExceeded;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#exceeded) {
      callback();
      return;
    }
    this.#received += chunk.length;
    if (this.#received > this.#maxBytes) {
      this.#exceeded = true;
      this.#onExceeded();
      callback();
      return;
    }
    callback(null, chunk);
  }
}
