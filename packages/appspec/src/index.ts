export { secretsHash } from "./secrets-hash.js";
export {
  checkAppEnv,
  checkName,
  checkRoute,
  checkRoutes,
  checkVariables,
  checkVersion,
  MAX_ROUTES,
  MAX_VALUE_BYTES,
  MAX_VARS,
  RESERVED_VARS,
  routeHost,
} from "./validation.js";
