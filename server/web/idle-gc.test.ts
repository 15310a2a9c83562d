import http from "node:http";
import v8 from "node:v8";
import { afterEach, describe, expect, it } from "vitest";
import { startIdleGc } from "./idle-gc";

const heapMb = () => v8.getHeapStatistics().total_heap_size / 2 ** 20;

let server: http.Server | undefined;
afterEach(() => server?.close());

describe("startIdleGc", () => {
  it("gives a burst's old-generation garbage back once the server is quiet, and only then", async () => {
    server = http.createServer((_req, res) => res.end("ok"));
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    const stop = startIdleGc(server, { idleMs: 1_500 });
    try {
      // a burst whose objects outlive scavenges (promoted), then are dropped
      let keep: object[][] = [];
      for (let r = 0; r < 40; r++) {
        keep.push(Array.from({ length: 50_000 }, (_, i) => ({ r, i, s: `request-${r}-${i}`, a: [i, i + 1] })));
        if (keep.length > 8) keep.shift();
        await new Promise((res) => setImmediate(res));
      }
      keep = [];
      await (await fetch(url)).text();
      const busy = heapMb();
      expect(busy).toBeGreaterThan(150);
      // still within the quiet period: nothing collected by it yet
      await new Promise((r) => setTimeout(r, 500));
      expect(heapMb()).toBeGreaterThan(busy - 32);
      await new Promise((r) => setTimeout(r, 2_500));
      expect(heapMb()).toBeLessThan(busy / 2);
    } finally {
      stop();
    }
  }, 30_000);
});
