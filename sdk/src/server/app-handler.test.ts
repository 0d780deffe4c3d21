import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { test } from "node:test";
import { AppExportError, resolveApp } from "./app-handler.js";

test("a one-parameter function is a fetch handler", async () => {
  const app = await resolveApp({ default: (_req: Request) => new Response("x") });
  assert.equal(app.kind, "fetch");
  assert.equal(app.ready, undefined);
});

test("an object with fetch (and ready) is a fetch app; methods keep their `this`", async () => {
  const obj = {
    greeting: "hi",
    fetch(this: { greeting: string }) {
      return new Response(this.greeting);
    },
    ready(this: { greeting: string }) {
      return this.greeting;
    },
  };
  const app = await resolveApp({ default: obj });
  assert.equal(app.kind, "fetch");
  assert.equal(app.ready?.(), "hi");
});

test("a function of two or more parameters is a Node request listener (plain http, Express)", async () => {
  const listener = (_req: IncomingMessage, _res: ServerResponse) => undefined;
  const express = (_req: unknown, _res: unknown, _next: unknown) => undefined;
  assert.equal((await resolveApp({ default: listener })).listener, listener);
  assert.equal((await resolveApp({ default: express })).kind, "node");
});

test("a named fetch export works without a default", async () => {
  assert.equal((await resolveApp({ fetch: () => new Response("") })).kind, "fetch");
});

test("anything else is refused with what is expected", async () => {
  for (const mod of [{}, { default: 42 }, { default: { handler: () => 1 } }, { default: null }]) {
    await assert.rejects(
      resolveApp(mod),
      (err: unknown) => err instanceof AppExportError && /default-export a fetch handler/.test(err.message),
    );
  }
});
