import type { X509Certificate } from "node:crypto";
import { connect, createSecureContext, createServer, type SecureContext } from "node:tls";
import type { CertificateBundle } from "@tako/proto";

/**
 * Completes a real TLS handshake with `servername` against a server holding `bundles`, choosing
 * by SNI the way the edge does (exact name, then the one-level wildcard, then the default), and
 * returns the leaf certificate the client received. Proves a bundle is a usable key and chain.
 */
export async function handshake(
  bundles: readonly CertificateBundle[],
  servername: string,
): Promise<X509Certificate> {
  const byName = new Map<string, SecureContext>();
  let fallback: SecureContext | undefined;
  for (const b of bundles) {
    const context = createSecureContext({ cert: b.certChainPem, key: b.privateKeyPem });
    if (b.isDefault) fallback = context;
    for (const name of b.info?.names ?? []) byName.set(name, context);
  }
  const pick = (name: string) =>
    byName.get(name) ?? byName.get(`*.${name.split(".").slice(1).join(".")}`) ?? fallback;
  const server = createServer({ SNICallback: (name, cb) => cb(null, pick(name)) }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as { port: number }).port;
  try {
    return await new Promise<X509Certificate>((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false }, () => {
        const peer = socket.getPeerX509Certificate();
        socket.destroy();
        if (peer) resolve(peer);
        else reject(new Error("no peer certificate"));
      });
      socket.on("error", reject);
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
