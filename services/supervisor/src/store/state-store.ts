import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { TakoError } from "@tako/errors";
import Database from "better-sqlite3";
import type { Release } from "../release.js";
import { SecretBox } from "./secret-box.js";

const SCHEMA_VERSION = 1;

/** Stored per {app}/{env}; survives deploys, rollbacks and restarts. */
export interface DeploymentRecord {
  readonly app: string;
  readonly env: string;
  readonly desired: number;
  /** The committed (last successfully rolled out) release; undefined before the first one. */
  readonly release: Release | undefined;
  /** Bumped by every rollout; instances of older generations are outdated. */
  readonly generation: number;
  readonly stopped: boolean;
  readonly lastError: string;
}

/** A running app process, recorded so a successor supervisor can adopt it after a reload. */
export interface InstanceRecord {
  readonly id: string;
  readonly app: string;
  readonly env: string;
  readonly generation: number;
  readonly version: string;
  readonly pid: number;
  /** Start time of the process in clock ticks since boot (/proc/<pid>/stat): guards PID reuse. */
  readonly startTicks: string;
  readonly port: number;
  readonly token: string;
  readonly phase: "ready" | "healthy" | "draining";
  readonly startedAtMs: number;
  readonly outFifo: string;
  readonly errFifo: string;
}

export interface LeaseHolder {
  readonly pid: number;
  readonly startTicks: string;
  /** Set once the holder has adopted the recorded processes. */
  readonly adopted?: boolean;
}

interface DeploymentRow {
  app: string;
  env: string;
  desired: number;
  release_json: string | null;
  secrets: Buffer | null;
  generation: number;
  stopped: number;
  last_error: string;
}

interface InstanceRow {
  id: string;
  app: string;
  env: string;
  generation: number;
  version: string;
  pid: number;
  start_ticks: string;
  port: number;
  token: string;
  phase: InstanceRecord["phase"];
  started_at: number;
  out_fifo: string;
  err_fifo: string;
}

/**
 * The supervisor's SQLite state under stateDir, in WAL mode. Deployment rows (releases, desired
 * counts) are written with synchronous FULL: on disk before the RPC that wrote them is
 * acknowledged, power loss included. Instance rows describe live processes, which a power loss
 * ends anyway: they only need to survive a crash of the supervisor process, which WAL with
 * synchronous NORMAL guarantees without an fsync on the cold-start path. Two supervisor
 * generations may open the database at once during a reload; the lease row says which one owns
 * the app processes.
 */
export class StateStore {
  readonly #db: Database.Database;
  readonly #box: SecretBox;

  constructor(stateDir: string) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    chmodSync(stateDir, 0o700);
    this.#box = SecretBox.open(join(stateDir, "supervisor.key"));
    this.#db = new Database(join(stateDir, "supervisor.db"));
    this.#db.pragma("journal_mode = WAL");
    this.#db.pragma("synchronous = NORMAL");
    this.#db.pragma("busy_timeout = 5000");
    this.#migrate();
  }

  close(): void {
    this.#db.close();
  }

  /** Runs a write with synchronous FULL (fsync before it returns). */
  #durably(write: () => void): void {
    this.#db.pragma("synchronous = FULL");
    try {
      write();
    } finally {
      this.#db.pragma("synchronous = NORMAL");
    }
  }

  #migrate(): void {
    this.#db.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as
      | { value: string }
      | undefined;
    const version = row ? Number(row.value) : 0;
    if (version > SCHEMA_VERSION) {
      throw new TakoError(
        "CONFIG_INVALID",
        `the supervisor's state was written by a newer Tako (schema ${version})`,
        {
          hint: "Upgrade Tako on this host; downgrading would lose state.",
        },
      );
    }
    if (version === SCHEMA_VERSION) return;
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS deployments (
        app TEXT NOT NULL, env TEXT NOT NULL,
        desired INTEGER NOT NULL DEFAULT 1,
        release_json TEXT, secrets BLOB,
        generation INTEGER NOT NULL DEFAULT 0,
        stopped INTEGER NOT NULL DEFAULT 0,
        last_error TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (app, env));
      CREATE TABLE IF NOT EXISTS instances (
        id TEXT PRIMARY KEY, app TEXT NOT NULL, env TEXT NOT NULL, generation INTEGER NOT NULL,
        version TEXT NOT NULL, pid INTEGER NOT NULL, start_ticks TEXT NOT NULL, port INTEGER NOT NULL,
        token TEXT NOT NULL, phase TEXT NOT NULL, started_at INTEGER NOT NULL,
        out_fifo TEXT NOT NULL, err_fifo TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS lease (
        id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, start_ticks TEXT NOT NULL,
        adopted INTEGER NOT NULL DEFAULT 0);
      INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', '${SCHEMA_VERSION}');
    `);
  }

  // Deployments

  deployments(): DeploymentRecord[] {
    const rows = this.#db.prepare("SELECT * FROM deployments ORDER BY app, env").all() as DeploymentRow[];
    return rows.map((r) => this.#toDeployment(r));
  }

  deployment(app: string, env: string): DeploymentRecord | undefined {
    const row = this.#db.prepare("SELECT * FROM deployments WHERE app = ? AND env = ?").get(app, env) as
      | DeploymentRow
      | undefined;
    return row ? this.#toDeployment(row) : undefined;
  }

  #toDeployment(r: DeploymentRow): DeploymentRecord {
    let release: Release | undefined;
    if (r.release_json !== null) {
      const secrets = r.secrets
        ? (JSON.parse(this.#box.open(r.secrets, `${r.app}/${r.env}`)) as Record<string, string>)
        : {};
      release = { ...(JSON.parse(r.release_json) as Omit<Release, "secrets">), secrets };
    }
    return {
      app: r.app,
      env: r.env,
      desired: r.desired,
      release,
      generation: r.generation,
      stopped: r.stopped === 1,
      lastError: r.last_error,
    };
  }

  /** Records a successful rollout: the release becomes the one a restart brings back. */
  commitRelease(release: Release, generation: number, defaultDesired: number): void {
    const { secrets, ...rest } = release;
    const sealed = this.#box.seal(JSON.stringify(secrets), `${release.app}/${release.env}`);
    this.#durably(() =>
      this.#db
        .prepare(
          `INSERT INTO deployments (app, env, desired, release_json, secrets, generation, stopped, last_error)
         VALUES (@app, @env, @desired, @json, @sealed, @generation, 0, '')
         ON CONFLICT (app, env) DO UPDATE SET release_json = @json, secrets = @sealed,
           generation = @generation, stopped = 0, last_error = ''`,
        )
        .run({
          app: release.app,
          env: release.env,
          desired: defaultDesired,
          json: JSON.stringify(rest),
          sealed,
          generation,
        }),
    );
  }

  setDesired(app: string, env: string, desired: number): void {
    this.#db.prepare("UPDATE deployments SET desired = ? WHERE app = ? AND env = ?").run(desired, app, env);
  }

  setStopped(app: string, env: string, stopped: boolean): void {
    this.#db
      .prepare("UPDATE deployments SET stopped = ? WHERE app = ? AND env = ?")
      .run(stopped ? 1 : 0, app, env);
  }

  setLastError(app: string, env: string, lastError: string): void {
    this.#db
      .prepare("UPDATE deployments SET last_error = ? WHERE app = ? AND env = ?")
      .run(lastError, app, env);
  }

  deleteDeployment(app: string, env: string): void {
    this.#durably(() => this.#db.prepare("DELETE FROM deployments WHERE app = ? AND env = ?").run(app, env));
  }

  // Instances

  instances(): InstanceRecord[] {
    const rows = this.#db.prepare("SELECT * FROM instances ORDER BY started_at").all() as InstanceRow[];
    return rows.map((r) => ({
      id: r.id,
      app: r.app,
      env: r.env,
      generation: r.generation,
      version: r.version,
      pid: r.pid,
      startTicks: r.start_ticks,
      port: r.port,
      token: r.token,
      phase: r.phase,
      startedAtMs: r.started_at,
      outFifo: r.out_fifo,
      errFifo: r.err_fifo,
    }));
  }

  putInstance(i: InstanceRecord): void {
    this.#db
      .prepare(
        `INSERT OR REPLACE INTO instances (id, app, env, generation, version, pid, start_ticks, port, token, phase,
           started_at, out_fifo, err_fifo)
         VALUES (@id, @app, @env, @generation, @version, @pid, @startTicks, @port, @token, @phase, @startedAtMs,
           @outFifo, @errFifo)`,
      )
      .run(i);
  }

  setInstancePhase(id: string, phase: InstanceRecord["phase"]): void {
    this.#db.prepare("UPDATE instances SET phase = ? WHERE id = ?").run(phase, id);
  }

  deleteInstance(id: string): void {
    this.#db.prepare("DELETE FROM instances WHERE id = ?").run(id);
  }

  // Lease: which supervisor generation owns the app processes

  leaseHolder(): LeaseHolder | undefined {
    const row = this.#db.prepare("SELECT pid, start_ticks, adopted FROM lease WHERE id = 1").get() as
      | { pid: number; start_ticks: string; adopted: number }
      | undefined;
    return row && row.pid !== 0
      ? { pid: row.pid, startTicks: row.start_ticks, adopted: row.adopted === 1 }
      : undefined;
  }

  /**
   * Takes the lease when nobody holds it, its holder is dead (`isAlive` says no), or we hold it
   * already. Atomic against the other generation (an IMMEDIATE transaction).
   */
  tryAcquireLease(me: LeaseHolder, isAlive: (holder: LeaseHolder) => boolean): boolean {
    const acquire = this.#db.transaction(() => {
      const holder = this.leaseHolder();
      if (holder && !(holder.pid === me.pid && holder.startTicks === me.startTicks) && isAlive(holder))
        return false;
      this.#db
        .prepare("INSERT OR REPLACE INTO lease (id, pid, start_ticks, adopted) VALUES (1, ?, ?, 0)")
        .run(me.pid, me.startTicks);
      return true;
    });
    return acquire.immediate();
  }

  markLeaseAdopted(me: LeaseHolder): void {
    this.#db
      .prepare("UPDATE lease SET adopted = 1 WHERE id = 1 AND pid = ? AND start_ticks = ?")
      .run(me.pid, me.startTicks);
  }

  /** Gives the lease up (only if we hold it), so a successor can take it at once. */
  releaseLease(me: LeaseHolder): void {
    this.#db
      .prepare("UPDATE lease SET pid = 0, start_ticks = '' WHERE id = 1 AND pid = ? AND start_ticks = ?")
      .run(me.pid, me.startTicks);
  }
}
