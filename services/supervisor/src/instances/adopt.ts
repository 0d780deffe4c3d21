import { AdoptedAppProcess } from "../process/app-process.js";
import { isSameLiveProcess } from "../process/proc-stat.js";
import { OutputPipe, type OutputStream } from "../spawn/output-pipe.js";
import type { InstanceRecord } from "../store/state-store.js";
import { Instance, type InstanceHooks } from "./instance.js";

/**
 * Takes over a process a previous supervisor generation started (after a reload or a crash of
 * the supervisor): same PID and start time, so never a stranger that reused the PID. Its output
 * FIFOs are reopened by path; probing resumes at once. Returns undefined when the process is gone.
 */
export function adoptInstance(
  record: InstanceRecord,
  hooks: InstanceHooks,
  probeTimeoutMs: number,
  register: (instance: Instance) => void,
): Instance | undefined {
  if (!isSameLiveProcess(record.pid, record.startTicks)) return undefined;
  const instance = new Instance({
    id: record.id,
    app: record.app,
    env: record.env,
    generation: record.generation,
    version: record.version,
    token: record.token,
    startedAtMs: record.startedAtMs,
    fifos: { out: record.outFifo, err: record.errFifo },
    probeTimeoutMs,
    hooks,
  });
  register(instance);
  const handlers = instance.outputHandlers();
  const pipes: OutputPipe[] = [];
  let ended = 0;
  const streams: [OutputStream, string][] = [
    ["out", record.outFifo],
    ["err", record.errFifo],
  ];
  for (const [stream, path] of streams) {
    try {
      pipes.push(
        new OutputPipe(
          path,
          (text) => handlers.onLine(stream, text),
          () => {
            if (++ended === 2) handlers.onOutputEnd();
          },
        ),
      );
    } catch {
      // The FIFO is gone: this stream's output is lost, the process itself is still watched.
      ended++;
    }
  }
  instance.run(new AdoptedAppProcess(record.pid, record.startTicks), record.port, pipes, record.phase);
  return instance;
}
