// `npm run demo` (scripts/demo.mjs), the README's main job, as a user runs it: it starts a local
// host, deploys examples/hello through sshd, and prints a URL that `curl -k` answers with 200 and
// the command that stops the host; that command leaves no process or socket behind.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import {
  freePort,
  makeTempRoot,
  processesMentioning,
  REPO_ROOT,
  socketsIn,
  type TempRoot,
  waitFor,
} from "@tako/testkit";

const run = promisify(execFile);

let temp: TempRoot;
let root: string;

before(async () => {
  temp = await makeTempRoot("demo");
  root = temp.root;
});
after(async () => {
  // Whatever the test left running (it stops the host itself when it passes).
  await run(process.execPath, [join(REPO_ROOT, "cli/bin/tako.js"), "server", "stop", "--root", root]).catch(
    () => undefined,
  );
  await temp?.cleanup();
});

test("npm run demo deploys the example app, prints a URL that answers 200 and a stop command that leaves nothing", async () => {
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const demo = await run(process.execPath, [join(REPO_ROOT, "scripts/demo.mjs")], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      TAKO_DEMO_ROOT: root,
      TAKO_DEMO_HTTP_PORT: String(httpPort),
      TAKO_DEMO_HTTPS_PORT: String(httpsPort),
    },
    timeout: 600_000,
    maxBuffer: 16 << 20,
  });
  const url = `https://hello.localhost:${httpsPort}/`;
  assert.match(demo.stdout, new RegExp(`curl -k ${url.replaceAll(".", "\\.")}\\n`), demo.stdout);
  const stop = /\n {2}(npx tako server stop --root \S+)\n$/.exec(demo.stdout)?.[1];
  assert.equal(stop, `npx tako server stop --root ${root}`, demo.stdout);

  // The printed command, as printed.
  const reply = await run("curl", ["-ks", "-w", "\n%{http_code}", url]);
  const [body, status] = reply.stdout.split("\n").filter((l) => l !== "");
  assert.equal(status, "200", reply.stdout);
  assert.match(body ?? "", /^Hello from Tako \(\/, pid \d+\)$/, "the example app answered, with its [vars]");
  const file = await run("curl", ["-ks", `${url}hello.txt`]);
  assert.match(file.stdout, /served by the edge from public\//);

  await run("sh", ["-c", stop ?? "false"], { cwd: REPO_ROOT, timeout: 120_000 });
  await waitFor(async () => (await processesMentioning(root)).length === 0, {
    timeoutMs: 30_000,
    what: "every process of the demo host to exit",
  });
  assert.deepEqual(await socketsIn(join(root, "var/run/tako")), []);
  await assert.rejects(run("curl", ["-ks", "--max-time", "10", url]), "nothing answers any more");
});
