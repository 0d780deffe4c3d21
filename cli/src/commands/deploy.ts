import { toJson } from "@bufbuild/protobuf";
import { DeployDoneSchema } from "@tako/proto";
import type { Argv, CommandModule } from "yargs";
import { buildApp } from "../build/build-app.js";
import { type GlobalArgs, handle, sshFrom } from "../context.js";
import { deployRelease } from "../deploy/deploy-release.js";
import { reportOutcomes } from "../output/outcomes.js";
import { loadDeployTarget } from "../project.js";
import { SecretsStore } from "../secrets/secrets-store.js";

interface DeployArgs {
  readonly env: string;
}

export const deployCommand: CommandModule<GlobalArgs, DeployArgs & GlobalArgs> = {
  command: "deploy",
  describe: "Build the app and roll it out to every server of the environment with zero downtime",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option("env", {
        type: "string",
        default: "production",
        describe: "Environment to deploy ([envs.<env>])",
      })
      .example("$0 deploy", "Deploy the production environment")
      .example(
        "$0 deploy --env staging --dry-run",
        "Build and show what would be deployed",
      ) as unknown as Argv<DeployArgs & GlobalArgs>,
  handler: handle<DeployArgs>(async (args, term) => {
    const { config, deployment, servers } = await loadDeployTarget(args, args.env);
    // Secrets first: a missing key fails before anything is built or sent.
    const secrets = await (await SecretsStore.load(config.appDir)).decrypt(deployment.env);

    const progress = term.progress(`Building ${config.name} for ${deployment.env}…`);
    let built: Awaited<ReturnType<typeof buildApp>>;
    try {
      built = await buildApp(config, {
        env: deployment.env,
        onStep: (step) => progress.update(`Building ${config.name}: ${step}…`),
        onOutput: (chunk) => {
          if (args.verbose) for (const line of chunk.trimEnd().split("\n")) progress.log(`  │ ${line}`);
        },
      });
    } catch (err) {
      progress.fail(`Build of ${config.name} failed`);
      throw err;
    }
    const steps = Object.entries(built.durationsMs)
      .map(([s, ms]) => `${s} ${ms} ms`)
      .join(", ");
    progress.log(
      `Built ${config.name} ${built.version}: ${built.files} files, ${formatBytes(built.sizeBytes)} (${steps})${built.strippedSdk ? "; tako.sh comes from the host" : ""}`,
    );

    const summary = {
      app: config.name,
      env: deployment.env,
      version: built.version,
      artifact: {
        path: built.artifactPath,
        sha256: built.sha256,
        sizeBytes: built.sizeBytes,
        files: built.files,
      },
      buildMs: built.durationsMs,
    };
    if (args.dryRun) {
      progress.done(`Dry run: would deploy ${built.version} to ${deployment.servers.join(", ")}`);
      term.result(
        `${config.name} ${built.version} → ${deployment.servers.join(", ")} (not deployed: --dry-run)`,
        {
          ok: true,
          dryRun: true,
          ...summary,
          servers: deployment.servers,
        },
      );
      return;
    }

    const outcomes = await deployRelease({
      deployment,
      release: built,
      secrets,
      servers,
      ssh: sshFrom(args, term),
      progress,
    });
    const failed = outcomes.filter((o) => !o.ok).length;
    if (failed === 0) progress.done(`Deployed ${config.name} ${built.version} to ${deployment.env}`);
    else
      progress.fail(
        `Deploy of ${config.name} ${built.version} failed on ${failed} of ${outcomes.length} servers`,
      );
    if (!term.mode.json) term.info("");
    const urls = [...new Set(outcomes.flatMap((o) => (o.ok ? o.value.done.urls : [])))];
    reportOutcomes(
      term,
      outcomes,
      (r) =>
        `${r.done.version} is live${r.done.previousVersion ? ` (was ${r.done.previousVersion})` : ""}, ${r.done.newInstances} new instance(s)${r.secretsSent ? ", secrets updated" : ""}`,
      (r) => ({
        ...(toJson(DeployDoneSchema, r.done) as Record<string, unknown>),
        secretsSent: r.secretsSent,
        steps: r.steps
          .filter((s) => s.finished)
          .map((s) => ({ name: s.name, durationMs: Number(s.durationMs), detail: s.detail })),
      }),
      { ...summary, urls },
    );
    if (!term.mode.json && urls.length) term.result(urls.map((u) => `  ${u}`).join("\n"), undefined);
  }),
};

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1 << 20) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}
