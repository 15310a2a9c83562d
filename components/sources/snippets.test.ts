import { describe, expect, it } from "vitest";
import { parseQueryLines, remoteWriteSnippet } from "./snippets";

describe("source snippets", () => {
  it("parses 'name = query' lines and plain queries", () => {
    expect(parseQueryLines("up\n\ncpu_rate = sum(rate(node_cpu_seconds_total[1m]))\n")).toEqual([
      { query: "up" },
      { name: "cpu_rate", query: "sum(rate(node_cpu_seconds_total[1m]))" },
    ]);
    expect(parseQueryLines('up{job="x"}')).toEqual([{ query: 'up{job="x"}' }]);
  });
  it("renders a remote_write block with the bearer token", () => {
    expect(remoteWriteSnippet("http://omen:3000", "tok")).toContain("url: http://omen:3000/api/v1/write");
    expect(remoteWriteSnippet("http://omen:3000", "tok")).toContain("credentials: tok");
  });
});
