export { SUPERVISOR_FLAGS } from "./config.js";
export { appUserName } from "./spawn/app-user.js";
export { compiledEntryPath } from "./spawn/entry-compiler.js";
export { internalSocketPath } from "./spawn/internal-socket.js";
export { linkSdk, sdkEntrypointPath, sdkPackageDir } from "./spawn/sdk-link.js";
export { supervisor } from "./supervisor.js";
