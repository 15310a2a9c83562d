import { describe, expect, it, vi } from "vitest";

vi.mock("server-only", () => ({}));
const { appRouter } = await import("./root");

type Schema = { safeParse(x: unknown): { success: boolean } };
type Procedures = Record<string, { _def: { inputs: { shape?: Record<string, Schema> }[] } }>;

/** Input fields that name rows: `id`, `…Id`, `…Ids`. */
const ID_FIELD = /^id$|Ids?$/;

/**
 * Row ids are PostgreSQL `integer`: a procedure whose id input takes 2^31 hands it to SQL, which
 * fails with "value out of range for type integer" — a 500 for a caller's bad input (issue 14).
 * Walked from the router, so a new procedure with an unbounded id fails here.
 */
describe("tRPC id inputs", () => {
  it("every numeric id input refuses ids beyond PostgreSQL integer (2^31 and up): a 400, not a database error", () => {
    const procedures = (appRouter._def as unknown as { procedures: Procedures }).procedures;
    const unbounded: string[] = [];
    let checked = 0;
    for (const [name, p] of Object.entries(procedures)) {
      for (const input of p._def.inputs) {
        for (const [field, schema] of Object.entries(input.shape ?? {})) {
          if (!ID_FIELD.test(field)) continue;
          for (const [one, big] of [[1, 2 ** 31], [[1], [2 ** 31]]] as const) {
            if (!schema.safeParse(one).success) continue;
            checked++;
            if (schema.safeParse(big).success) unbounded.push(`${name}.${field}`);
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(10);
    expect(unbounded).toEqual([]);
  });
});
