import { describe, expect, it } from "vitest";
import { parseStreamFilter } from "./stream-filter";

describe("parseStreamFilter", () => {
  it("accepts a label as a card shows it and as Prometheus writes it", () => {
    expect(parseStreamFilter("host=vm")).toEqual({ text: [], labels: [{ name: "host", value: "vm" }] });
    expect(parseStreamFilter('host="vm"')).toEqual({ text: [], labels: [{ name: "host", value: "vm" }] });
    expect(parseStreamFilter("host = vm")).toEqual({ text: [], labels: [{ name: "host", value: "vm" }] });
  });
  it("reads a card's whole label line and a pasted selector", () => {
    expect(parseStreamFilter("host=vm, cpu=0")).toEqual({
      text: [],
      labels: [
        { name: "host", value: "vm" },
        { name: "cpu", value: "0" },
      ],
    });
    expect(parseStreamFilter('node_load1{host="vm",job="node"}')).toEqual({
      text: ["node_load1"],
      labels: [
        { name: "host", value: "vm" },
        { name: "job", value: "node" },
      ],
    });
  });
  it("keeps quoted commas, spaces and escapes inside a value", () => {
    expect(parseStreamFilter('path="/a, b c" load').labels).toEqual([{ name: "path", value: "/a, b c" }]);
    expect(parseStreamFilter('path="/a, b c" load').text).toEqual(["load"]);
    expect(parseStreamFilter('q="say \\"hi\\""').labels).toEqual([{ name: "q", value: 'say "hi"' }]);
  });
  it("treats anything else as text", () => {
    expect(parseStreamFilter("checkout latency")).toEqual({ text: ["checkout", "latency"], labels: [] });
    expect(parseStreamFilter("a=")).toEqual({ text: ["a="], labels: [] });
    expect(parseStreamFilter("=x")).toEqual({ text: ["=x"], labels: [] });
    expect(parseStreamFilter("")).toEqual({ text: [], labels: [] });
  });
  it("never throws on hostile input", () => {
    for (const s of ['"', '{"', "}{", 'a="', "\\", "=".repeat(500), '{a="b"', "a=\"\\\""]) expect(() => parseStreamFilter(s)).not.toThrow();
  });
});
