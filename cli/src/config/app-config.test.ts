import assert from "node:assert/strict";
import { test } from "node:test";
import { TakoError } from "@tako/errors";
import { parseAppConfig } from "./app-config.js";
import { deploymentOf } from "./deployment.js";

const FILE = "/apps/shop/tako.toml";

function problem(text: string, file = FILE): TakoError {
  try {
    parseAppConfig(file, text);
  } catch (err) {
    assert.ok(TakoError.is(err, "CONFIG_INVALID"), String(err));
    return err;
  }
  assert.fail("the config was accepted");
}

test("a complete tako.toml parses into a frozen, defaulted config", () => {
  const config = parseAppConfig(
    FILE,
    `name = "shop"
main = "dist/server.js"
release = "node migrate.js"

[vars]
LOG_LEVEL = "info"
WORKERS = 4

[vars.staging]
LOG_LEVEL = "debug"

[envs.production]
routes = ["Shop.Example.com", "*.shop.example.com", "example.com/api/*"]
servers = ["web-1", "web-2"]
idle_timeout = 60

[envs.staging]
route = "staging.shop.example.com"
servers = ["web-1"]
release = ""

[build]
command = "npm run build"
assets = ["dist/client"]
`,
  );
  assert.equal(config.name, "shop");
  assert.equal(config.appDir, "/apps/shop");
  assert.deepEqual(config.envs.production?.routes, [
    "shop.example.com",
    "*.shop.example.com",
    "example.com/api/*",
  ]);
  assert.equal(config.envs.staging?.idleTimeoutSeconds, 300);
  assert.deepEqual(config.build, { command: "npm run build", assets: ["dist/client"] });
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.envs.production));

  const prod = deploymentOf(config, "production");
  assert.deepEqual(prod.vars, { LOG_LEVEL: "info", WORKERS: "4" });
  assert.equal(prod.releaseCommand, "node migrate.js");
  assert.equal(prod.idleTimeoutMs, 60_000);
  const staging = deploymentOf(config, "staging");
  assert.deepEqual(staging.vars, { LOG_LEVEL: "debug", WORKERS: "4" });
  assert.equal(staging.releaseCommand, "", "an env's empty release clears the top-level one");
});

test("the app name comes from the directory when tako.toml has none, and must be valid", () => {
  assert.equal(parseAppConfig("/srv/my-blog/tako.toml", "").name, "my-blog");
  const err = problem("", "/srv/My Blog/tako.toml");
  assert.match(
    err.message,
    /^\/srv\/My Blog\/tako.toml: name: no name is set and the directory name "My Blog" is not a valid app name$/,
  );
  assert.equal(err.hint, 'A valid example: name = "my-blog"');
});

test("a syntax error names the file, line and column", () => {
  const err = problem('name = "shop"\n\n[envs.production]\nroute = "a.example.com\n');
  assert.match(err.message, /^\/apps\/shop\/tako.toml:4:\d+: .*not valid TOML/);
  assert.match(err.hint, /\[envs.production\]/);
});

test("unknown keys are errors with the line, the key and the closest valid setting", () => {
  const err = problem('name = "shop"\n\n[envs.production]\nroute = "a.example.com"\nserver = ["web-1"]\n');
  assert.equal(
    err.message,
    '/apps/shop/tako.toml:5: envs.production.server: unknown setting "server" (did you mean "servers"?)',
  );
  assert.equal(err.hint, 'A valid example: servers = ["web-1", "web-2"]');
  assert.match(
    problem("colour = 1").message,
    /tako.toml:1: colour: unknown setting "colour" \(known: name, main/,
  );
});

test("bad routes are refused with the reason", () => {
  const cases: [string, RegExp][] = [
    ["https://a.example.com", /has a scheme; .*drop "https:\/\/"/],
    ["a.example.com:8443", /has a port/],
    ["a.*.example.com", /wildcard is only allowed as the whole first label/],
    ["*.com", /wildcard needs a domain of at least two labels/],
    ["-a.example.com", /"-a" is not a valid host name label/],
    ["a.example.com/", /drop the trailing "\/"/],
    ["a.example.com/x/../y", /the path must be/],
  ];
  for (const [route, expected] of cases) {
    const err = problem(`[envs.production]\nservers = ["a"]\nroute = "${route}"\n`);
    assert.match(err.message, /tako.toml:3: envs.production.route: /, route);
    assert.match(err.message, expected, route);
    assert.equal(err.hint, 'A valid example: route = "my-app.example.com"');
  }
});

test("route conflicts inside the file are errors", () => {
  const twice = problem('[envs.production]\nroutes = ["a.example.com", "A.example.com"]\n');
  assert.match(twice.message, /:2: envs.production.routes: the route "a.example.com" is listed twice/);
  const shared = problem(
    '[envs.production]\nroute = "a.example.com/api/*"\n\n[envs.staging]\nroute = "a.example.com/api/*"\n',
  );
  assert.match(
    shared.message,
    /:5: envs.staging.route: the route "a.example.com\/api\/\*" is already used by \[envs.production\]/,
  );
  const both = problem('[envs.production]\nroute = "a.example.com"\nroutes = ["b.example.com"]\n');
  assert.match(both.message, /:3: envs.production.routes: set either route or routes, not both/);
});

test("types, names, vars and idle_timeout are checked, and every problem is listed", () => {
  const err = problem(
    `name = "Shop"
[vars]
ENV = "x"
[vars.qa]
A = 1
[envs.production]
idle_timeout = "5m"
servers = "web-1"
`,
  );
  assert.match(err.message, /has 5 problems:/);
  assert.match(err.message, /tako.toml:1: name: "Shop" is not a valid app name/);
  assert.match(err.message, /tako.toml:3: vars.ENV: ENV is set by Tako and cannot be a var/);
  assert.match(err.message, /tako.toml:4: vars.qa: there is no \[envs.qa\]/);
  assert.match(
    err.message,
    /tako.toml:7: envs.production.idle_timeout: must be a whole number of seconds .* got "5m"/,
  );
  assert.match(
    err.message,
    /tako.toml:8: envs.production.servers: must be a list of strings, got string "web-1"/,
  );
  assert.match(err.message, /valid example: servers = \["web-1", "web-2"\]/);
});

test("deploying an environment that is missing, routeless or serverless says what to add", () => {
  const config = parseAppConfig(
    FILE,
    '[envs.production]\nroute = "a.example.com"\n[envs.staging]\nservers = ["a"]\n',
  );
  assert.throws(() => deploymentOf(config, "qa"), /there is no \[envs.qa\]/);
  assert.throws(() => deploymentOf(config, "production"), /\[envs.production\] lists no servers/);
  assert.throws(() => deploymentOf(config, "staging"), /\[envs.staging\] has no route/);
  assert.throws(() => deploymentOf(config, "development"), /is for `tako dev`/);
});
