import { Duplex } from "node:stream";

/**
 * A Duplex available at once for a stream that is still being opened (an SSH channel). The RPC
 * transport's connection factory is synchronous, while opening a forwarded channel takes a round
 * trip: writes are held until the channel is open, then everything is passed through both ways,
 * with backpressure. A failure to open destroys the stream with that error.
 */
export function deferredStream(opening: Promise<Duplex>): Duplex {
  let inner: Duplex | undefined;
  const held: (() => void)[] = [];
  const whenOpen = (action: () => void) => {
    if (inner) action();
    else held.push(action);
  };
  const outer = new Duplex({
    write(chunk, encoding, callback) {
      whenOpen(() => inner?.write(chunk, encoding, callback));
    },
    final(callback) {
      whenOpen(() => {
        inner?.end();
        callback();
      });
    },
    read() {
      inner?.resume();
    },
    destroy(err, callback) {
      inner?.destroy();
      callback(err);
    },
  });
  opening.then(
    (stream) => {
      if (outer.destroyed) {
        stream.destroy();
        return;
      }
      inner = stream;
      stream.on("data", (data: Buffer) => {
        if (!outer.push(data)) stream.pause();
      });
      stream.on("end", () => outer.push(null));
      stream.on("error", (err: Error) => outer.destroy(err));
      for (const action of held.splice(0)) action();
    },
    (err: Error) => outer.destroy(err),
  );
  return outer;
}
