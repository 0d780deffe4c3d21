// tako.toml through the real CLI: `tako init` writes a valid file and keeps .tako/ out of git;
// a broken file is refused before anything is built or sent, naming the file, line, key and a
// valid example.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeTempRoot, type TempRoot } from "@tako/testkit";
import { type CliUser, makeCliUser } from "../helpers/cli-env.js";

let user: CliUser;
let work: TempRoot;
before(async () => {
  user = await makeCliUser(undefined);
  work = await makeTempRoot("config");
});
after(async () => {
  await user.cleanup();
  await work.cleanup();
});

test("tako init writes a tako.toml that validates, and a .gitignore block for .tako/", async () => {
  const app = join(work.root, "my-shop");
  await mkdir(app);
  await writeFile(join(app, "package.json"), JSON.stringify({ name: "shop", main: "./server.js" }));
  await writeFile(join(app, ".gitignore"), "node_modules");
  const r = await user.tako(["init", "--ci"], { cwd: app });
  assert.equal(r.code, 0, r.stderr);
  const toml = await readFile(join(app, "tako.toml"), "utf8");
  assert.match(toml, /^name = "my-shop"$/m);
  assert.match(toml, /^main = "server.js"$/m);
  assert.match(toml, /^route = "my-shop.example.com"$/m);
  assert.equal(
    await readFile(join(app, ".gitignore"), "utf8"),
    "node_modules\n\n# tako: build output and secret keys stay on this machine; .tako/secrets.json is encrypted and committed\n.tako/*\n!.tako/secrets.json\n",
  );
  const again = await user.tako(["init"], { cwd: app });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /tako.toml already exists\n {2}→ Edit it/);
  // What init wrote is accepted by the commands that read it (dry run: nothing is sent).
  await mkdir(user.takoHome, { recursive: true });
  await writeFile(join(user.takoHome, "config.toml"), '[servers.web-1]\nhost = "192.0.2.1"\n');
  await writeFile(join(app, "server.js"), "export default { fetch: () => new Response('ok') };\n");
  const dry = await user.tako(["deploy", "--dry-run", "--json"], { cwd: app });
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(JSON.parse(dry.stdout).app, "my-shop");
});

test("a broken tako.toml gets a line-precise error with a valid example, and nothing is built", async () => {
  const app = join(work.root, "broken");
  await mkdir(app);
  const cases: { toml: string; expect: RegExp; hint: RegExp }[] = [
    {
      toml: 'name = "shop"\n\n[envs.production]\nroute = "shop.example.com"\nservers = ["web-1"]\nidle_timeout = "five minutes"\n',
      expect:
        /tako\.toml:6: envs\.production\.idle_timeout: must be a whole number of seconds from 1 to \d+, got "five minutes"/,
      hint: /→ A valid example: idle_timeout = 300/,
    },
    {
      toml: 'name = "shop"\n[envs.production]\nroute = "https://shop.example.com"\nservers = ["web-1"]\n',
      expect: /tako\.toml:3: envs\.production\.route: "https:\/\/shop\.example\.com" has a scheme/,
      hint: /→ A valid example: route = "my-app\.example\.com"/,
    },
    {
      toml: 'name = "shop"\n[envs.production]\nroute = "shop.example.com"\nservers = ["web-1" "web-2"]\n',
      expect: /tako\.toml:4:\d+: .*\(this is not valid TOML\)/,
      hint: /→ A valid example:\n\s+name = "my-app"/,
    },
    {
      toml: 'name = "shop"\nregion = "eu"\n[envs.production]\nroute = "shop.example.com"\nservers = ["web-1"]\n',
      expect:
        /tako\.toml:2: region: unknown setting "region" \(known: name, main, release, vars, envs, build\)/,
      hint: /→ A valid example:/,
    },
  ];
  for (const c of cases) {
    await writeFile(join(app, "tako.toml"), c.toml);
    const r = await user.tako(["deploy", "--ci"], { cwd: app });
    assert.equal(r.code, 1, c.toml);
    assert.match(r.stderr, c.expect);
    assert.match(r.stderr, c.hint);
    assert.ok(r.stderr.includes(join(app, "tako.toml")), "names the file");
    assert.ok(!existsSync(join(app, ".tako")), "nothing was built");
  }
  const missing = await user.tako(["deploy"], { cwd: work.root });
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr,
    /no tako.toml at .*\n {2}→ Run `tako init` in your app's directory, or point to the file with `-c <path>`/,
  );
});
