export { AsyncQueue } from "./async-queue.js";
export {
  createRpcChannel,
  createRpcClient,
  DEFAULT_CALL_TIMEOUT_MS,
  type RpcChannel,
  type RpcChannelOptions,
  retryInterceptor,
} from "./client.js";
export {
  type ErrorLogger,
  fromConnectError,
  serverErrorInterceptor,
  toConnectError,
} from "./error-mapping.js";
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  type DrainOptions,
  type ListenOptions,
  RpcServer,
  type RpcServerOptions,
} from "./server.js";
export {
  isErrno,
  probeSocket,
  readSymlinkTarget,
  reapStaleSockets,
  removeSocketFile,
  type SocketProbe,
  swapSymlink,
} from "./socket-files.js";
export { pidOfSocketFile, processSocketPath, stableSocketPath } from "./socket-names.js";
export { assertSocketPath, MAX_SOCKET_PATH_BYTES } from "./socket-path.js";
export { type FollowStreamOptions, followStream } from "./watch.js";
