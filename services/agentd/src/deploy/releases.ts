import { readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { TakoError } from "@tako/errors";
import type { StateStore } from "../store/state-store.js";

/** app.json, written by `tako deploy` at the root of every artifact. */
export interface AppManifest {
  readonly main: string;
  readonly commitMessage: string;
  readonly gitDirty: boolean;
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export async function readManifest(releaseDir: string): Promise<AppManifest> {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(join(releaseDir, "app.json"), "utf8"));
  } catch {
    throw new TakoError("ARTIFACT_REJECTED", "the release has no readable app.json", {
      hint: "Build and deploy with `tako deploy`, which writes app.json.",
    });
  }
  const main = typeof raw.main === "string" ? raw.main : "";
  if (
    !main ||
    main.startsWith("/") ||
    main.split("/").includes("..") ||
    !(await exists(join(releaseDir, main)))
  ) {
    throw new TakoError("ARTIFACT_REJECTED", `app.json's main "${main}" is not a file inside the release`);
  }
  const commit =
    typeof raw.commitMessage === "string"
      ? raw.commitMessage
      : typeof raw.commit_message === "string"
        ? raw.commit_message
        : "";
  return { main, commitMessage: commit, gitDirty: raw.gitDirty === true || raw.git_dirty === true };
}

/**
 * Keeps the live release and the newest others, `keep` in all; deletes the rest, and release
 * directories no record knows (left by an interrupted deploy). Returns the versions removed.
 */
export async function pruneReleases(
  store: StateStore,
  releasesDir: string,
  app: string,
  env: string,
  live: string,
  keep: number,
): Promise<string[]> {
  const others = store.listReleases(app, env).filter((r) => r.version !== live);
  const doomed = others.slice(Math.max(1, keep) - 1).map((r) => r.version);
  const recorded = new Set([live, ...others.map((r) => r.version)]);
  for (const name of await readdir(releasesDir).catch(() => [] as string[])) {
    if (!recorded.has(name) && !name.startsWith(".")) doomed.push(name);
  }
  for (const version of doomed) {
    await rm(join(releasesDir, version), { recursive: true, force: true });
    store.deleteRelease(app, env, version);
  }
  return doomed;
}
