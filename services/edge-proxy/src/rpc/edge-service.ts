import { create } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import {
  EdgeService,
  ListRoutesResponseSchema,
  RemoveRoutesResponseSchema,
  SetRoutesResponseSchema,
} from "@tako/proto";
import type { RouteRegistry } from "../routing/route-registry.js";

/** Thin handlers of tako.v1.EdgeService: decode, call the domain, encode. */
export function edgeServiceRoutes(registry: RouteRegistry) {
  return (router: ConnectRouter) => {
    router.service(EdgeService, {
      setRoutes: async (req) => {
        await registry.setRoutes(req.app, req.env, req.routes);
        return create(SetRoutesResponseSchema, {});
      },
      removeRoutes: async (req) =>
        create(RemoveRoutesResponseSchema, { existed: await registry.removeRoutes(req.app, req.env) }),
      listRoutes: () =>
        create(ListRoutesResponseSchema, {
          routes: registry.table.routes.map((r) => ({
            pattern: r.pattern.text,
            app: r.target.app,
            env: r.target.env,
          })),
        }),
    });
  };
}
