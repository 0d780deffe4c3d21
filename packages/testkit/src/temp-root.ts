import { mkdtemp, rm } from "node:fs/promises";

export interface TempRoot {
  readonly root: string;
  /** Removes the directory; safe to call twice. */
  cleanup(): Promise<void>;
}

/**
 * A fresh root directory for a host under /tmp, kept short on purpose: socket paths under it must
 * stay within the kernel's 107-byte limit.
 */
export async function makeTempRoot(label = "t"): Promise<TempRoot> {
  const root = await mkdtemp(`/tmp/tk-${label.slice(0, 8)}-`);
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}
