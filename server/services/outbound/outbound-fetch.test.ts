import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outboundFetch } from "./outbound-fetch";
import { freePort } from "../../testing/omen-server";

/** Real HTTP servers on loopback: redirects, a closed port and a silent server. */
let a: http.Server;
let b: http.Server;
let silent: http.Server;
const url = (s: http.Server, p = "/") => `http://127.0.0.1:${(s.address() as AddressInfo).port}${p}`;
const listen = (s: http.Server) => new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));

beforeAll(async () => {
  b = http.createServer((_req, res) => res.end("b"));
  a = http.createServer((req, res) => {
    if (req.url === "/same") res.writeHead(302, { location: "/final" }).end();
    else if (req.url === "/away") res.writeHead(302, { location: url(b, "/x") }).end();
    else if (req.url === "/loop") res.writeHead(302, { location: "/loop" }).end();
    else res.end(`a${req.url}`);
  });
  silent = http.createServer(() => undefined); // accepts, never answers
  await Promise.all([listen(a), listen(b), listen(silent)]);
});
afterAll(() => {
  for (const s of [a, b, silent]) s.closeAllConnections();
  for (const s of [a, b, silent]) s.close();
});

describe("outboundFetch", () => {
  it("follows redirects within the same host", async () => {
    expect(await (await outboundFetch(url(a, "/same"))).text()).toBe("a/final");
  });
  it("refuses a redirect to another host, and redirect loops", async () => {
    await expect(outboundFetch(url(a, "/away"))).rejects.toThrow(/redirected to another host/);
    await expect(outboundFetch(url(a, "/loop"))).rejects.toThrow(/more than 3 times/);
  });
  it("a closed port and a silent server give the same message (no port states)", async () => {
    const closed = `http://127.0.0.1:${await freePort()}/`;
    const errClosed = await outboundFetch(closed, { timeoutMs: 500 }).catch((e: Error) => e.message);
    const errSilent = await outboundFetch(url(silent), { timeoutMs: 500 }).catch((e: Error) => e.message);
    expect(errClosed).toBe(`Could not reach ${new URL(closed).origin}.`);
    expect(errSilent).toBe(`Could not reach ${new URL(url(silent)).origin}.`);
  });
  it("only http and https, without credentials in the URL", async () => {
    await expect(outboundFetch("file:///etc/passwd")).rejects.toThrow(/Only http and https/);
    await expect(outboundFetch(url(a).replace("http://", "http://u:p@"))).rejects.toThrow(/credentials/);
  });
});
