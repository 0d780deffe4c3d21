import type { X509Certificate } from "node:crypto";
import { connect } from "node:tls";
import { waitFor } from "@tako/testkit";

/** The leaf certificate a TLS server on 127.0.0.1:`port` presents for `servername` (no SNI when undefined). */
export function peerCertificate(port: number, servername: string | undefined): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: "127.0.0.1",
        port,
        ...(servername ? { servername } : {}),
        rejectUnauthorized: false,
        timeout: 5_000,
      },
      () => {
        const peer = socket.getPeerX509Certificate();
        socket.destroy();
        if (peer) resolve(peer);
        else reject(new Error("no peer certificate"));
      },
    );
    socket.on("timeout", () => socket.destroy(new Error("TLS handshake timed out")));
    socket.on("error", reject);
  });
}

/**
 * Waits until the edge serves, for `servername`, a certificate `accept` likes (the edge learns
 * of a new certificate over certd's watch a moment after certd stored it) and returns it.
 */
export function edgeServes(
  httpsPort: number,
  servername: string | undefined,
  accept: (cert: X509Certificate) => boolean,
  what: string,
): Promise<X509Certificate> {
  return waitFor(
    async () => {
      const cert = await peerCertificate(httpsPort, servername);
      return accept(cert) ? cert : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, what },
  );
}
