// The floor: plain `node` serving the same minimal server, with no Tako in between. It reports
// its port on stdout the moment it listens (the fastest way for a parent to learn it).
import { createServer } from "node:http";
import handler from "./app/server.mjs";

const server = createServer(handler);
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${server.address().port}\n`);
});
