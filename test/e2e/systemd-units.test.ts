// deploy/systemd: one unit per daemon this build ships plus tako.target, verified offline by
// `systemd-analyze verify`. An unknown key is only a warning there (exit code 0), so any output
// on stderr counts as a failure.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { INSTALLED_DAEMONS } from "@tako/daemon";
import { REPO_ROOT } from "@tako/testkit";

const unitsDir = join(REPO_ROOT, "deploy/systemd");

function verify(dir: string, files: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile("systemd-analyze", ["verify", ...files.map((f) => join(dir, f))], (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

test("there is one unit per installed daemon, and tako.target wants them all", async () => {
  const files = (await readdir(unitsDir)).filter((f) => f.endsWith(".service")).sort();
  assert.deepEqual(files, INSTALLED_DAEMONS.map((d) => `tako-${d}.service`).sort());
  const target = await readFile(join(unitsDir, "tako.target"), "utf8");
  for (const d of INSTALLED_DAEMONS)
    assert.match(target, new RegExp(`^Wants=.*\\btako-${d}\\.service\\b`, "m"));
});

test("every unit runs the daemon's entry module from the installed tree", async () => {
  for (const d of INSTALLED_DAEMONS) {
    const unit = await readFile(join(unitsDir, `tako-${d}.service`), "utf8");
    const exec = /^ExecStart=(\S+) (\S+) (.*)$/m.exec(unit);
    assert.ok(exec, `tako-${d}.service has an ExecStart`);
    assert.equal(exec[1], "/usr/bin/node");
    const script = exec[2] ?? "";
    assert.ok(script.startsWith("/usr/lib/tako/"), script);
    assert.ok(
      existsSync(join(REPO_ROOT, script.slice("/usr/lib/tako/".length))),
      `${script} is built from this repository`,
    );
    assert.match(exec[3] ?? "", /--root \//);
    assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  }
});

test("systemd-analyze verify passes with no warnings", async () => {
  const files = (await readdir(unitsDir)).filter((f) => f.endsWith(".service") || f.endsWith(".target"));
  const { code, output } = await verify(unitsDir, files);
  assert.equal(code, 0, output);
  assert.equal(output, "");
});

test("the check catches a unit with only a warning (unknown key, exit code 0)", async () => {
  const dir = await mkdtemp("/tmp/tk-units-");
  try {
    const unit = "tako-agentd.service";
    await copyFile(join(unitsDir, unit), join(dir, unit));
    await writeFile(
      join(dir, unit),
      `${await readFile(join(dir, unit), "utf8")}\n[Service]\nRestartt=always\n`,
    );
    const { code, output } = await verify(dir, [unit]);
    assert.equal(code, 0);
    assert.match(output, /Unknown key 'Restartt' in section \[Service\]/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
