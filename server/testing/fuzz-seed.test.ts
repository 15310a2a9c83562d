import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { chooseFuzzSeed, FIXED_FUZZ_SEED, headCommit, seedOfCommit } from "./fuzz-seed";

describe("fuzz seed", () => {
  it("follows the commit: the same commit the same seed, another commit another", () => {
    expect(seedOfCommit("65b4e7b0c0ffee0000000000000000000000beef")).toBe(0x65b4e7b0);
    expect(chooseFuzzSeed(undefined, "65b4e7b0c0ffee")).toEqual({ seed: 0x65b4e7b0, from: "commit 65b4e7b0c0ff" });
    expect(chooseFuzzSeed(undefined, "2e5f83f1aa").seed).toBe(0x2e5f83f1);
  });

  it("OMEN_FUZZ_SEED reproduces a run whatever the commit", () => {
    expect(chooseFuzzSeed("1", "65b4e7b0c0ffee")).toEqual({ seed: 1, from: "OMEN_FUZZ_SEED" });
    expect(chooseFuzzSeed("4294967295", null).seed).toBe(0xffffffff);
    expect(chooseFuzzSeed("", "65b4e7b0c0ffee").seed).toBe(0x65b4e7b0);
    for (const bad of ["x", "1.5", "-1", "4294967296"]) expect(() => chooseFuzzSeed(bad, null)).toThrow(/OMEN_FUZZ_SEED/);
  });

  it("uses the fixed seed without git, and refuses what is not a hash", () => {
    expect(chooseFuzzSeed(undefined, null)).toEqual({ seed: FIXED_FUZZ_SEED, from: "fixed (no git commit found)" });
    expect(() => seedOfCommit("HEAD")).toThrow(/not a commit hash/);
  });

  it("reads this checkout's HEAD (null in a tree exported without git)", () => {
    const root = path.resolve(import.meta.dirname, "../..");
    expect(headCommit(root)).toEqual(fs.existsSync(path.join(root, ".git")) ? expect.stringMatching(/^[0-9a-f]{40}$/) : null);
    expect(headCommit("/")).toBeNull();
  });
});
