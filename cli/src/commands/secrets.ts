import { secretsHash } from "@tako/appspec";
import { TakoError } from "@tako/errors";
import type { Argv, CommandModule } from "yargs";
import { type GlobalArgs, handle, sshFrom } from "../context.js";
import { reportOutcomes } from "../output/outcomes.js";
import { formatTable } from "../output/table.js";
import type { Terminal } from "../output/terminal.js";
import { loadDeployTarget, loadProject } from "../project.js";
import { onEveryServer } from "../remote/server-connection.js";
import { readSecretValue } from "../secrets/read-secret.js";
import { SecretsStore } from "../secrets/secrets-store.js";

interface SecretArgs {
  readonly name: string;
  readonly env: string;
  readonly sync: boolean;
}

const envOption = { type: "string", default: "production", describe: "Environment" } as const;
const syncOption = {
  type: "boolean",
  default: false,
  describe: "Push the env's secrets to its servers now",
} as const;

const setCommand: CommandModule<GlobalArgs, SecretArgs & GlobalArgs> = {
  command: "set <name>",
  aliases: ["add"],
  describe:
    "Set a secret (the value is prompted for, or read from stdin); stored encrypted in .tako/secrets.json",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional("name", {
        type: "string",
        demandOption: true,
        describe: "Variable name, e.g. DATABASE_URL",
      })
      .option("env", envOption)
      .option("sync", syncOption)
      .example('printf %s "$URL" | $0 secrets set DATABASE_URL --env production', "") as unknown as Argv<
      SecretArgs & GlobalArgs
    >,
  handler: handle<SecretArgs>(async (args, term) => {
    const config = await loadProject(args);
    const store = await SecretsStore.load(config.appDir);
    const value = await readSecretValue(args.name);
    await store.set(args.env, args.name, value);
    if (args.dryRun) {
      term.result(`Dry run: would set ${args.name} for ${args.env}.`, { ok: true, dryRun: true });
      return;
    }
    await store.save();
    term.info(`Set ${args.name} for ${args.env} in ${store.file} (key: ${store.keyPath(args.env)}).`);
    if (args.sync) await syncSecrets(args, term);
    else term.result("", { ok: true, env: args.env, name: args.name });
  }),
};

const rmCommand: CommandModule<GlobalArgs, SecretArgs & GlobalArgs> = {
  command: "rm <name>",
  aliases: ["remove"],
  describe: "Remove a secret",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional("name", { type: "string", demandOption: true })
      .option("env", envOption)
      .option("sync", syncOption) as unknown as Argv<SecretArgs & GlobalArgs>,
  handler: handle<SecretArgs>(async (args, term) => {
    const config = await loadProject(args);
    const store = await SecretsStore.load(config.appDir);
    if (!store.remove(args.env, args.name)) {
      throw new TakoError("NOT_FOUND", `there is no secret ${args.name} for ${args.env}`, {
        hint: `\`tako secrets list --env ${args.env}\` shows the secrets that exist.`,
      });
    }
    if (args.dryRun) {
      term.result(`Dry run: would remove ${args.name} from ${args.env}.`, { ok: true, dryRun: true });
      return;
    }
    await store.save();
    term.info(`Removed ${args.name} from ${args.env}.`);
    if (args.sync) await syncSecrets(args, term);
    else term.result("", { ok: true, env: args.env, removed: args.name });
  }),
};

const listCommand: CommandModule<GlobalArgs, { env: string | undefined } & GlobalArgs> = {
  command: "list",
  aliases: ["ls"],
  describe: "List secret names per environment (never the values)",
  builder: (y: Argv<GlobalArgs>) =>
    y.option("env", { type: "string", describe: "Only this environment" }) as unknown as Argv<
      { env: string | undefined } & GlobalArgs
    >,
  handler: handle<{ env: string | undefined }>(async (args, term) => {
    const config = await loadProject(args);
    const store = await SecretsStore.load(config.appDir);
    const envs = args.env ? [args.env] : store.envs();
    const rows = envs.flatMap((env) => store.names(env).map((name) => [env, name]));
    term.result(rows.length ? formatTable(["ENV", "NAME"], rows) : "No secrets.", {
      ok: true,
      envs: Object.fromEntries(envs.map((env) => [env, store.names(env)])),
    });
  }),
};

const syncCommand: CommandModule<GlobalArgs, { env: string } & GlobalArgs> = {
  command: "sync",
  describe:
    "Push the env's secrets to every server of the env where they differ (running apps restart to get them)",
  builder: (y: Argv<GlobalArgs>) =>
    y.option("env", envOption) as unknown as Argv<{ env: string } & GlobalArgs>,
  handler: handle<{ env: string }>(async (args, term) => syncSecrets(args, term)),
};

/** Sends the env's secrets to each of its servers whose stored hash differs. */
async function syncSecrets(args: { env: string } & GlobalArgs, term: Terminal): Promise<void> {
  const { config, deployment, servers } = await loadDeployTarget(args, args.env);
  const values = await (await SecretsStore.load(config.appDir)).decrypt(args.env);
  const hash = secretsHash(values);
  const outcomes = await onEveryServer(
    servers,
    sshFrom(args, term),
    async ({ agent }): Promise<SyncResult> => {
      const remote = await agent.client.getSecretsHash({ app: deployment.app, env: deployment.env });
      if (remote.hash === hash) return "in-sync";
      if (args.dryRun) return "would-update";
      try {
        const r = await agent.client.setSecrets({
          app: deployment.app,
          env: deployment.env,
          secrets: values,
        });
        return r.restarted ? "updated-restarted" : "updated";
      } catch (err) {
        // Nothing runs there yet: the first deploy sends the secrets along (their hash differs).
        if (TakoError.is(err, "APP_NOT_FOUND")) return "not-deployed";
        throw err;
      }
    },
  );
  reportOutcomes(
    term,
    outcomes,
    (r) => SYNC_WORDS[r],
    (r) => ({ result: r }),
  );
}

type SyncResult = "in-sync" | "would-update" | "updated" | "updated-restarted" | "not-deployed";
const SYNC_WORDS: Record<SyncResult, string> = {
  "in-sync": "already in sync",
  "would-update": "would update (dry run)",
  updated: "updated",
  "updated-restarted": "updated; instances restarted to get them",
  "not-deployed": "not deployed there yet; `tako deploy` sends the secrets with the release",
};

export const secretsCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: "secrets <command>",
  describe: "Manage the app's encrypted secrets (processes get them on fd 3)",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .command(setCommand)
      .command(rmCommand)
      .command(listCommand)
      .command(syncCommand)
      .demandCommand(1, "Name a secrets command: set, rm, list or sync."),
  handler: () => undefined,
};
