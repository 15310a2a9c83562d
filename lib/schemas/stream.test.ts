import { describe, expect, it } from "vitest";
import { streamKey } from "./stream";

describe("streamKey", () => {
  it("sorts labels so the same series always gets the same identity", () => {
    expect(streamKey("up", { job: "a", instance: "x:1" })).toBe(streamKey("up", { instance: "x:1", job: "a" }));
    expect(streamKey("up", { job: "a", instance: "x:1" })).toBe('up{instance="x:1",job="a"}');
  });
  it("drops __name__ and renders a bare metric without braces", () => {
    expect(streamKey("cpu", { __name__: "cpu" })).toBe("cpu");
  });
});
