// Generated contracts of every Tako daemon (proto/tako/v1). Regenerate with `npm run proto:generate`;
// never edit src/gen by hand: the test suite fails when regenerating changes it.
export * from "./gen/tako/v1/agent_pb.js";
export * from "./gen/tako/v1/app_pb.js";
export * from "./gen/tako/v1/certd_pb.js";
export * from "./gen/tako/v1/channel_pb.js";
export * from "./gen/tako/v1/edge_pb.js";
export * from "./gen/tako/v1/errors_pb.js";
export * from "./gen/tako/v1/health_pb.js";
export * from "./gen/tako/v1/supervisor_pb.js";
export * from "./gen/tako/v1/workflow_pb.js";
