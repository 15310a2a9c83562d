/**
 * Numeric form fields keep the text as typed (`-3`, `.5`, an empty field) and say in words why
 * it is not accepted, instead of a browser number input coercing it (`-3` shown as "03", a
 * cleared field as 0).
 */
export interface NumberRule {
  label: string;
  min?: number;
  max?: number;
  integer?: boolean;
  /** An empty field means "not set" instead of an error. */
  optional?: boolean;
}

export type NumberParse = { ok: true; value: number | null } | { ok: false; error: string };

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function parseNumberInput(text: string, rule: NumberRule): NumberParse {
  const t = text.trim().replace(/\u2212/g, "-");
  if (t === "") return rule.optional ? { ok: true, value: null } : { ok: false, error: `${rule.label} is required.` };
  if (!NUMBER.test(t)) return { ok: false, error: `${rule.label}: "${text.trim()}" is not a number.` };
  const v = Number(t);
  if (!Number.isFinite(v)) return { ok: false, error: `${rule.label}: "${text.trim()}" is too large.` };
  if (rule.integer && !Number.isInteger(v)) return { ok: false, error: `${rule.label} must be a whole number; ${t} is not.` };
  const range = rangeText(rule);
  if (rule.min !== undefined && v < rule.min) return { ok: false, error: `${rule.label} must be ${range}; ${t} is too low.` };
  if (rule.max !== undefined && v > rule.max) return { ok: false, error: `${rule.label} must be ${range}; ${t} is too high.` };
  return { ok: true, value: v };
}

function rangeText(rule: NumberRule): string {
  if (rule.min !== undefined && rule.max !== undefined) return `between ${rule.min} and ${rule.max}`;
  if (rule.min !== undefined) return `at least ${rule.min}`;
  if (rule.max !== undefined) return `at most ${rule.max}`;
  return "a number";
}

/** The text a field shows for a stored value (no "1e-7" surprises for ordinary settings). */
export function formatNumberInput(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "";
  return String(v);
}
