import type { BuildOptions, OutputFile } from "esbuild";

let queue: Promise<unknown> = Promise.resolve();

/**
 * Builds in memory (the caller writes the files) one build at a time, and stops esbuild's
 * service process after each, so the supervisor never leaves a helper process running. esbuild
 * is loaded only when needed.
 */
export function runEsbuild(options: Omit<BuildOptions, "write">): Promise<OutputFile[]> {
  const run = queue.then(async () => {
    const esbuild = await import("esbuild");
    try {
      return (await esbuild.build({ ...options, write: false })).outputFiles;
    } finally {
      await esbuild.stop();
    }
  });
  queue = run.catch(() => undefined);
  return run;
}
