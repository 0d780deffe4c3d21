import { cp, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { connectServer, type ServerConnection, ServerDeploy, sshSettings } from "@tako/cli";
import {
  makeTempRoot,
  REPO_ROOT,
  startTestHost,
  startTestSshd,
  type TempRoot,
  type TestHost,
  type TestSshd,
} from "@tako/testkit";
import { type CliUser, makeCliUser } from "./cli-env.js";

/**
 * What a deploy test needs: a real local host behind the harness sshd, a user whose ~/.ssh
 * trusts it and whose global config names it "local", and a work directory for apps.
 */
export interface DeployEnv {
  readonly host: TestHost;
  readonly sshd: TestSshd;
  readonly user: CliUser;
  readonly work: TempRoot;
  /** Opens the host's agentd over SSH, as the CLI does. */
  connect(): Promise<ServerConnection>;
  /** Writes an app (tako.toml deploying to "local", a server.js and any extra files) under work/. */
  writeApp(name: string, options?: { toml?: string; files?: Record<string, string> }): Promise<string>;
  /**
   * Copies test/fixtures/apps/<name> (its tako.toml deploys to "local") under work/, as a user's
   * checkout: without node_modules or .tako, so the test's secrets and edits stay there.
   */
  fixtureApp(name: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startDeployEnv(label: string): Promise<DeployEnv> {
  const [host, sshd] = await Promise.all([startTestHost(), startTestSshd()]);
  const user = await makeCliUser(sshd);
  const work = await makeTempRoot(label);
  const add = await user.tako([
    "servers",
    "add",
    "local",
    sshd.target,
    "--port",
    String(sshd.port),
    "--root",
    host.root,
  ]);
  if (add.code !== 0) throw new Error(`servers add failed:\n${add.stderr}`);
  const server = {
    name: "local",
    host: "127.0.0.1",
    port: sshd.port,
    user: sshd.user,
    root: host.root,
    sshKey: undefined,
  };
  return {
    host,
    sshd,
    user,
    work,
    connect: () =>
      connectServer(
        server,
        sshSettings({}, () => undefined, { HOME: user.home }),
      ),
    async writeApp(name, options = {}) {
      const dir = join(work.root, name);
      const files = {
        "tako.toml":
          options.toml ??
          `name = "${name}"\nmain = "server.js"\n[envs.production]\nroute = "${name}.tako.test"\nservers = ["local"]\n`,
        "server.js": `export default { fetch: () => new Response(${JSON.stringify(name)}) };\n`,
        ...options.files,
      };
      for (const [path, body] of Object.entries(files)) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), body);
      }
      return dir;
    },
    async fixtureApp(name) {
      const dir = join(work.root, name);
      const skip = new Set(["node_modules", ".tako", ".installing"]);
      await cp(join(REPO_ROOT, "test/fixtures/apps", name), dir, {
        recursive: true,
        filter: (src) => !skip.has(src.split("/").pop() ?? ""),
      });
      return dir;
    },
    async stop() {
      await user.cleanup();
      await work.cleanup();
      await sshd.stop();
      await host.stop();
    },
  };
}

/** Starts a Deploy stream of app/production as the leader, to be driven by the test. */
export function startServerDeploy(
  connection: ServerConnection,
  app: string,
  version: string,
  artifact: { readonly path: string; readonly sha256: string; readonly sizeBytes: number },
): ServerDeploy {
  return new ServerDeploy(
    "local",
    connection.agent.client,
    {
      app,
      env: "production",
      version,
      artifactSha256: artifact.sha256,
      artifactSizeBytes: BigInt(artifact.sizeBytes),
      routes: [`${app}.tako.test`],
      leader: true,
    },
    artifact.path,
  );
}
