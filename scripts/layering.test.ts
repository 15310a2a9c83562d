import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The import direction the layout promises (docs: style.md): app → server/api → services →
 * repos → db; everything may use lib; lib uses nothing above it; React components reach the
 * server only through tRPC types. A regex over import specifiers is enough to hold the line.
 */
const root = path.resolve(import.meta.dirname, "..");

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "generated" && e.name !== "node_modules") out.push(...files(rel));
    } else if (/\.(ts|tsx)$/.test(e.name)) out.push(rel);
  }
  return out;
}

function imports(file: string): { spec: string; typeOnly: boolean }[] {
  const text = fs.readFileSync(path.join(root, file), "utf8");
  return [...text.matchAll(/^\s*import\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gm)].map((m) => ({ spec: m[2]!, typeOnly: Boolean(m[1]) }));
}

/** Resolves "@/x" and relative specifiers to a repo-relative path (others are packages). */
function target(file: string, spec: string): string | null {
  if (spec.startsWith("@/")) return spec.slice(2);
  if (spec.startsWith(".")) return path.relative(root, path.resolve(root, path.dirname(file), spec));
  return null;
}

function violations(dir: string, forbidden: (t: string, typeOnly: boolean) => boolean): string[] {
  const bad: string[] = [];
  for (const f of files(dir)) {
    if (f.endsWith(".test.ts")) continue;
    for (const { spec, typeOnly } of imports(f)) {
      const t = target(f, spec);
      if (t !== null && forbidden(t, typeOnly)) bad.push(`${f} imports ${spec}`);
    }
  }
  return bad;
}

describe("import direction", () => {
  it("lib/ imports nothing from server/, app/ or components/", () => {
    expect(violations("lib", (t) => /^(server|app|components)\//.test(t))).toEqual([]);
  });
  it("app/ and components/ never reach repos or the database directly", () => {
    const direct = (t: string) => /^server\/(repos|db|generated)/.test(t);
    expect([...violations("app", direct), ...violations("components", direct)]).toEqual([]);
  });
  it("components/ use the server only through tRPC types", () => {
    expect(violations("components", (t, typeOnly) => t.startsWith("server/") && !typeOnly)).toEqual([]);
  });
  it("repos do not import services or the API", () => {
    expect(violations("server/repos", (t) => /^server\/(services|api)\//.test(t))).toEqual([]);
  });
});
