/** Longest line kept whole; longer output is split into pieces of this size. */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * Splits a byte stream into lines: at "\n" (a "\r" before it is dropped) or every 64 KiB.
 * Empty lines are dropped. Bytes are buffered until a line is complete; `flush` returns the
 * unfinished rest.
 */
export class LineSplitter {
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      let piece = chunk.subarray(start, end);
      // Emit 64 KiB pieces of a long line as they fill up.
      while (this.#pendingBytes + piece.length >= MAX_LINE_BYTES) {
        const take = MAX_LINE_BYTES - this.#pendingBytes;
        this.#pending.push(piece.subarray(0, take));
        this.#emit(lines);
        piece = piece.subarray(take);
      }
      if (nl === -1) {
        if (piece.length > 0) {
          this.#pending.push(Buffer.from(piece));
          this.#pendingBytes += piece.length;
        }
        return lines;
      }
      this.#pending.push(piece);
      this.#emit(lines);
      start = nl + 1;
    }
  }

  flush(): string[] {
    const lines: string[] = [];
    this.#emit(lines);
    return lines;
  }

  #emit(into: string[]): void {
    let text = Buffer.concat(this.#pending).toString("utf8");
    this.#pending = [];
    this.#pendingBytes = 0;
    if (text.endsWith("\r")) text = text.slice(0, -1);
    if (text.length > 0) into.push(text);
  }
}
