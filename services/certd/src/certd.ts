import type { DaemonDefinition } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import { type CertdRuntime, openCertdRuntime } from "./certd-runtime.js";
import { CERTD_FLAGS, parseCertdSettings } from "./config.js";
import { certServiceRoutes } from "./rpc/cert-service.js";

/** certd: keys and certificates for the edge on certd.sock (root only). */
export const certd: DaemonDefinition<typeof CERTD_FLAGS> = {
  name: "certd",
  flags: CERTD_FLAGS,
  create(ctx) {
    let runtime: CertdRuntime | undefined;
    const current = () => {
      // The socket is served only once start() resolved, so this is a bug if it ever fires.
      if (!runtime) throw new TakoError("UNAVAILABLE", "certd is still starting");
      return runtime;
    };
    return {
      routes: certServiceRoutes(current),
      async start(signal) {
        runtime = await openCertdRuntime({
          settings: parseCertdSettings(ctx.config),
          certsDir: ctx.paths.certsDir,
          log: ctx.log,
          signal,
        });
      },
      async stop() {
        await runtime?.stop();
      },
    };
  },
};
