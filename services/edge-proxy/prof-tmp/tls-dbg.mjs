import { connect } from "node:tls";
import { startEdge } from "../dist/test/helpers/edge-harness.js";

const edge = await startEdge({ defaultCertNames: ["example.test"], flags: ["--processes", "2"] });
const t0 = Date.now();
const hs = (session) =>
  new Promise((resolve) => {
    let ticket;
    const s = connect({
      host: "127.0.0.1",
      port: edge.httpsPort,
      servername: "example.test",
      ca: edge.ca.certPem,
      ALPNProtocols: ["http/1.1"],
      ...(session ? { session } : {}),
    });
    s.on("session", (x) => {
      ticket = x;
      console.log("session", Date.now() - t0);
    });
    s.on("secureConnect", () => {
      console.log("secure", s.getProtocol(), "reused", s.isSessionReused(), Date.now() - t0);
      s.write("GET / HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n");
    });
    s.on("data", (d) => console.log("data", String(d).split("\r\n")[0], Date.now() - t0));
    s.on("error", (e) => console.log("err", e.message));
    s.on("close", () => resolve({ reused: s.isSessionReused(), ticket }));
  });
const a = await hs();
console.log(a.reused, !!a.ticket);
const b = await hs(a.ticket);
console.log("reused", b.reused);
await edge.stop();
