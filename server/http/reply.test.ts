import { describe, expect, it } from "vitest";
import { ingestErrorReply } from "./reply";

describe("ingestErrorReply: a database outage is a 503 with Retry-After, never a 500", () => {
  it.each([
    ["refused", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" })],
    ["shut down by the administrator", Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" })],
    ["starting up", Object.assign(new Error("the database system is starting up"), { code: "57P03" })],
    // a connection that died under a query: pg gives it no code
    ["terminated under a query", new Error("Connection terminated unexpectedly")],
    ["a client broken by that", new Error("Client has encountered a connection error and is not queryable")],
  ])("%s", (_, e) => {
    const r = ingestErrorReply(e, 503);
    expect(r.status).toBe(503);
    expect(Number(r.headers["Retry-After"])).toBeGreaterThan(0);
  });

  it("other unexpected errors stay 500", () => {
    expect(ingestErrorReply(new Error("boom"), 503).status).toBe(500);
  });
});
