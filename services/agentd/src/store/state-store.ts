import Database from "better-sqlite3";
import type { SecretBox } from "./secret-box.js";

// agentd's durable state: one SQLite database (WAL) shared by every agentd process of the host —
// a successor and its draining predecessor see the same deploy locks.

export interface AppRecord {
  readonly app: string;
  readonly env: string;
  /** Live release ("" before the first successful deploy). */
  readonly currentVersion: string;
  readonly routes: readonly string[];
  readonly vars: Readonly<Record<string, string>>;
  readonly releaseCommand: string;
  readonly idleTimeoutMs: number;
}

export interface ReleaseRecord {
  readonly version: string;
  readonly deployedAtUnixMs: number;
  readonly commitMessage: string;
  readonly gitDirty: boolean;
}

export interface LockOwner {
  readonly pid: number;
  /** Kernel start time of the owning process, so a recycled PID is not mistaken for the owner. */
  readonly startTime: string;
}

export interface HeldLock {
  readonly owner: LockOwner;
  readonly acquiredAtUnixMs: number;
}

const SCHEMA_VERSION = 1;

export class StateStore {
  readonly #db: Database.Database;
  readonly #box: SecretBox;

  constructor(file: string, box: SecretBox) {
    this.#db = new Database(file);
    this.#box = box;
    this.#db.pragma("journal_mode = WAL");
    this.#db.pragma("synchronous = FULL");
    this.#db.pragma("busy_timeout = 5000");
    this.#db.pragma("foreign_keys = ON");
    this.#migrate();
  }

  #migrate(): void {
    const version = this.#db.pragma("user_version", { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `state database schema ${version} is newer than this agentd understands (${SCHEMA_VERSION})`,
      );
    }
    if (version === SCHEMA_VERSION) return;
    this.#db.exec(`
      CREATE TABLE apps (
        app TEXT NOT NULL, env TEXT NOT NULL,
        current_version TEXT NOT NULL DEFAULT '',
        routes_json TEXT NOT NULL DEFAULT '[]',
        vars_json TEXT NOT NULL DEFAULT '{}',
        release_command TEXT NOT NULL DEFAULT '',
        idle_timeout_ms INTEGER NOT NULL DEFAULT 0,
        updated_at_ms INTEGER NOT NULL,
        PRIMARY KEY (app, env)
      );
      CREATE TABLE secrets (
        app TEXT NOT NULL, env TEXT NOT NULL,
        sealed BLOB NOT NULL,
        hash TEXT NOT NULL,
        PRIMARY KEY (app, env)
      );
      CREATE TABLE releases (
        app TEXT NOT NULL, env TEXT NOT NULL, version TEXT NOT NULL,
        deployed_at_ms INTEGER NOT NULL,
        commit_message TEXT NOT NULL DEFAULT '',
        git_dirty INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (app, env, version)
      );
      CREATE TABLE deploy_locks (
        app TEXT NOT NULL, env TEXT NOT NULL,
        owner_pid INTEGER NOT NULL, owner_start TEXT NOT NULL,
        acquired_at_ms INTEGER NOT NULL,
        PRIMARY KEY (app, env)
      );
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
  }

  close(): void {
    this.#db.close();
  }

  getApp(app: string, env: string): AppRecord | undefined {
    const row = this.#db.prepare("SELECT * FROM apps WHERE app = ? AND env = ?").get(app, env) as
      | AppRow
      | undefined;
    return row ? toApp(row) : undefined;
  }

  listApps(): AppRecord[] {
    return (this.#db.prepare("SELECT * FROM apps ORDER BY app, env").all() as AppRow[]).map(toApp);
  }

  putApp(record: AppRecord): void {
    this.#db
      .prepare(
        `INSERT INTO apps (app, env, current_version, routes_json, vars_json, release_command, idle_timeout_ms, updated_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (app, env) DO UPDATE SET current_version = excluded.current_version, routes_json = excluded.routes_json,
           vars_json = excluded.vars_json, release_command = excluded.release_command,
           idle_timeout_ms = excluded.idle_timeout_ms, updated_at_ms = excluded.updated_at_ms`,
      )
      .run(
        record.app,
        record.env,
        record.currentVersion,
        JSON.stringify(record.routes),
        JSON.stringify(record.vars),
        record.releaseCommand,
        record.idleTimeoutMs,
        Date.now(),
      );
  }

  /** Removes every record of {app}/{env}; returns whether it was known. */
  deleteApp(app: string, env: string): boolean {
    return this.#db.transaction(() => {
      let changes = 0;
      for (const table of ["apps", "secrets", "releases", "deploy_locks"]) {
        changes += this.#db.prepare(`DELETE FROM ${table} WHERE app = ? AND env = ?`).run(app, env).changes;
      }
      return changes > 0;
    })();
  }

  getSecrets(app: string, env: string): { values: Record<string, string>; hash: string } {
    const row = this.#db
      .prepare("SELECT sealed, hash FROM secrets WHERE app = ? AND env = ?")
      .get(app, env) as { sealed: Buffer; hash: string } | undefined;
    if (!row) return { values: {}, hash: "" };
    return { values: JSON.parse(this.#box.open(row.sealed).toString("utf8")), hash: row.hash };
  }

  putSecrets(app: string, env: string, values: Record<string, string>, hash: string): void {
    if (Object.keys(values).length === 0) {
      this.#db.prepare("DELETE FROM secrets WHERE app = ? AND env = ?").run(app, env);
      return;
    }
    const sealed = this.#box.seal(Buffer.from(JSON.stringify(values), "utf8"));
    this.#db
      .prepare(
        `INSERT INTO secrets (app, env, sealed, hash) VALUES (?, ?, ?, ?)
         ON CONFLICT (app, env) DO UPDATE SET sealed = excluded.sealed, hash = excluded.hash`,
      )
      .run(app, env, sealed, hash);
  }

  putRelease(app: string, env: string, release: ReleaseRecord): void {
    this.#db
      .prepare(
        `INSERT OR REPLACE INTO releases (app, env, version, deployed_at_ms, commit_message, git_dirty) VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(
        app,
        env,
        release.version,
        release.deployedAtUnixMs,
        release.commitMessage,
        release.gitDirty ? 1 : 0,
      );
  }

  listReleases(app: string, env: string): ReleaseRecord[] {
    const rows = this.#db
      .prepare("SELECT * FROM releases WHERE app = ? AND env = ? ORDER BY deployed_at_ms DESC, version DESC")
      .all(app, env) as {
      version: string;
      deployed_at_ms: number;
      commit_message: string;
      git_dirty: number;
    }[];
    return rows.map((r) => ({
      version: r.version,
      deployedAtUnixMs: r.deployed_at_ms,
      commitMessage: r.commit_message,
      gitDirty: r.git_dirty === 1,
    }));
  }

  deleteRelease(app: string, env: string, version: string): void {
    this.#db.prepare("DELETE FROM releases WHERE app = ? AND env = ? AND version = ?").run(app, env, version);
  }

  /**
   * Takes the deploy lock of {app}/{env} for `owner` unless a live owner holds it. Returns the
   * current holder when it is someone else. `isAlive` tells whether a recorded owner still runs.
   */
  tryLock(
    app: string,
    env: string,
    owner: LockOwner,
    isAlive: (owner: LockOwner) => boolean,
  ): HeldLock | undefined {
    return this.#db
      .transaction((): HeldLock | undefined => {
        const row = this.#db.prepare("SELECT * FROM deploy_locks WHERE app = ? AND env = ?").get(app, env) as
          | { owner_pid: number; owner_start: string; acquired_at_ms: number }
          | undefined;
        if (row) {
          const holder = {
            owner: { pid: row.owner_pid, startTime: row.owner_start },
            acquiredAtUnixMs: row.acquired_at_ms,
          };
          if (isAlive(holder.owner)) return holder;
        }
        this.#db
          .prepare(
            "INSERT OR REPLACE INTO deploy_locks (app, env, owner_pid, owner_start, acquired_at_ms) VALUES (?, ?, ?, ?, ?)",
          )
          .run(app, env, owner.pid, owner.startTime, Date.now());
        return undefined;
      })
      .immediate();
  }

  unlock(app: string, env: string, owner: LockOwner): void {
    this.#db
      .prepare("DELETE FROM deploy_locks WHERE app = ? AND env = ? AND owner_pid = ? AND owner_start = ?")
      .run(app, env, owner.pid, owner.startTime);
  }
}

interface AppRow {
  app: string;
  env: string;
  current_version: string;
  routes_json: string;
  vars_json: string;
  release_command: string;
  idle_timeout_ms: number;
}

function toApp(row: AppRow): AppRecord {
  return {
    app: row.app,
    env: row.env,
    currentVersion: row.current_version,
    routes: JSON.parse(row.routes_json),
    vars: JSON.parse(row.vars_json),
    releaseCommand: row.release_command,
    idleTimeoutMs: row.idle_timeout_ms,
  };
}
