export { type ErrorKind, isReason, REASONS, type Reason, type ReasonSpec } from "./reasons.js";
export { TakoError, type TakoErrorOptions } from "./tako-error.js";
