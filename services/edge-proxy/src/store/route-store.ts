import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { TakoError } from "@tako/errors";

/** The routes of one {app}/{env}, as agentd pushed them. */
export interface StoredRoutes {
  readonly app: string;
  readonly env: string;
  readonly routes: readonly string[];
}

interface RoutesFile {
  readonly version: 1;
  /** In registration order: it breaks specificity ties (the first registered wins). */
  readonly deployments: readonly StoredRoutes[];
}

/**
 * The routing table on disk (`<stateDir>/edge/routes.json`), so a restarted or reloaded edge
 * serves the same routes without agentd pushing them again. Written to a temporary file, flushed
 * and renamed (then the directory is flushed), so a crash leaves the old or the new file whole.
 */
export class RouteStore {
  readonly path: string;

  constructor(stateDir: string) {
    this.path = join(stateDir, "edge", "routes.json");
  }

  /** The stored routes; empty when nothing was ever stored. Throws ROUTE_STATE_CORRUPT. */
  async load(): Promise<StoredRoutes[]> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    try {
      return parseRoutesFile(text);
    } catch (err) {
      throw new TakoError("ROUTE_STATE_CORRUPT", `the edge's routes file ${this.path} is unreadable`, {
        cause: err,
      });
    }
  }

  async save(deployments: readonly StoredRoutes[]): Promise<void> {
    const body: RoutesFile = { version: 1, deployments };
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o750 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    const file = await open(tmp, "w", 0o640);
    try {
      await file.writeFile(`${JSON.stringify(body, null, 2)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    const dirHandle = await open(dir, "r");
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  }
}

function parseRoutesFile(text: string): StoredRoutes[] {
  const data = JSON.parse(text) as Partial<RoutesFile>;
  if (data.version !== 1 || !Array.isArray(data.deployments)) throw new Error("unknown format");
  return data.deployments.map((d) => {
    if (typeof d?.app !== "string" || typeof d.env !== "string" || !Array.isArray(d.routes)) {
      throw new Error("malformed deployment entry");
    }
    if (!d.routes.every((r: unknown) => typeof r === "string")) throw new Error("malformed route");
    return { app: d.app, env: d.env, routes: [...d.routes] };
  });
}
