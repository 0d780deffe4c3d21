import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { ServerInfoResponseSchema, ServingStatus } from "@tako/proto";
import { formatDuration, formatServerInfo } from "./server-info.js";

test("durations read naturally", () => {
  assert.equal(formatDuration(999), "0s");
  assert.equal(formatDuration(61_000), "1m01s");
  assert.equal(formatDuration(3_660_000), "1h01m");
  assert.equal(formatDuration(90_000_000), "1d01h");
});

test("the status table lists every daemon and explains the ones that are down", () => {
  const info = create(ServerInfoResponseSchema, {
    version: "0.1.0",
    hostname: "box",
    rootDir: "/srv",
    httpPort: 80,
    httpsPort: 443,
    daemons: [
      {
        name: "agentd",
        status: ServingStatus.SERVING,
        pid: 10,
        uptimeMs: 5000n,
        socketPath: "/srv/var/run/tako/tako.sock",
      },
      { name: "supervisor", status: ServingStatus.UNREACHABLE, socketPath: "/s.sock", detail: "crash loop" },
    ],
  });
  const text = formatServerInfo(info);
  assert.match(text, /agentd\s+serving\s+10\s+5s\s+\/srv\/var\/run\/tako\/tako.sock/);
  assert.match(text, /supervisor\s+down\s+-\s+-/);
  assert.match(text, /supervisor: crash loop$/);
});
