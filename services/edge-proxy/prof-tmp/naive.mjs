import { readFileSync } from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as https from "node:https";
import { createProxyServer } from "http-proxy-3";

const [, , kind, port, upstreamPort] = process.argv;
const agent = new http.Agent({ keepAlive: true });
const proxy = createProxyServer({});
const target = { protocol: "http:", host: "127.0.0.1", port: Number(upstreamPort) };
const handler = (req, res) => proxy.web(req, res, { target, agent });
const tls = { cert: readFileSync("/tmp/b.pem"), key: readFileSync("/tmp/b.key") };
const server =
  kind === "h2"
    ? http2.createSecureServer({ ...tls, allowHTTP1: true }, handler)
    : https.createServer(tls, handler);
server.listen(Number(port), "127.0.0.1");
setTimeout(() => process.exit(0), 9000);
