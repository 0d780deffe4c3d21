import { createRequire } from "node:module";

/**
 * llhttp, the parser of Node's own HTTP client and server, as `_http_common` exposes it (the
 * same object Node's http module uses; undocumented, present since Node 12). The edge parses
 * instances' responses (upstream-pool.ts) and HTTP/1.1 requests on TLS (http1-front.ts) with it,
 * so framing follows exactly the rules Node applies, with its strict defaults. The tests of both
 * would fail loudly if Node changed it.
 */
export interface HttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenientFlags: number): void;
  execute(data: Buffer): number | Error;
  finish(): number | Error | undefined;
  free(): void;
  [callback: number]: unknown;
}

interface ParserBinding {
  new (): HttpParser;
  readonly REQUEST: number;
  readonly RESPONSE: number;
  readonly kOnMessageBegin: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kLenientNone: number;
}

const common = createRequire(import.meta.url)("_http_common") as {
  HTTPParser: ParserBinding;
  methods: readonly string[];
};

export const HTTPParser = common.HTTPParser;
/** Method names by the index llhttp reports for a request. */
export const METHODS = common.methods;
