import { AppError } from "@/lib/errors/app-error";
import type { TLabels } from "@/lib/schemas/stream";

/**
 * Inverse of `streamKey`: `metric{a="x",b="y"}` (label values JSON-quoted) or a bare name →
 * metric and labels. Throws AppError with `where` in the message on malformed input.
 */
export function parseStreamKey(text: string, where = ""): { metric: string; labels: TLabels } {
  const s = text.trim();
  const brace = s.indexOf("{");
  if (brace < 0) return { metric: s, labels: {} };
  if (!s.endsWith("}")) throw new AppError("BAD_REQUEST", `${where}stream "${shown(s)}" opens "{" but does not end with "}".`);
  const metric = s.slice(0, brace).trim();
  const body = s.slice(brace + 1, -1);
  const labels: TLabels = {};
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_.\-/]*)\s*=\s*("(?:[^"\\]|\\.)*")\s*(,|$)/y;
  let pos = 0;
  while (pos < body.length) {
    re.lastIndex = pos;
    const m = re.exec(body);
    if (!m) {
      throw new AppError(
        "BAD_REQUEST",
        `${where}stream "${shown(s)}": labels must look like name="value",other="value" (at "${shown(body.slice(pos), 30)}").`,
      );
    }
    // `__proto__` would not be stored as a label (it sets the prototype), and a second value of a name would replace the first
    if (m[1] === "__proto__" || Object.hasOwn(labels, m[1]!)) throw new AppError("BAD_REQUEST", `${where}stream "${shown(s)}": label "${m[1]}" ${m[1] === "__proto__" ? "is not a valid label name" : "is given twice"}.`);
    // the value's opening quote: the first in the match (a label name holds none)
    labels[m[1]!] = labelValue(s, m[1]!, m[2]!, brace + 1 + pos + m[0].indexOf('"'), where);
    pos = re.lastIndex;
    if (m[3] === "") break;
  }
  return { metric, labels };
}

/** JSON's escapes after a backslash (`\u` takes four hex digits). */
const ESCAPE = /^(["\\/bfnrt]|u[0-9a-fA-F]{4})/;

/**
 * A label value as written (JSON-quoted, `at` its opening quote's index in `key`) → its text.
 * What JSON.parse would refuse is explained in the sender's terms: which character of the stream
 * name, and how to write it (the parser's own words name a position in a text the sender never
 * wrote).
 */
function labelValue(key: string, name: string, quoted: string, at: number, where: string): string {
  // counted in characters as an editor shows them (an emoji before it is one, not two)
  const char = (k: number) => `character ${[...key.slice(0, at + k)].length + 1} of the stream name`;
  for (let k = 1; k < quoted.length - 1; k++) {
    const c = quoted.charCodeAt(k);
    if (c < 0x20) {
      throw new AppError(
        "BAD_REQUEST",
        `${where}stream "${shown(key)}": the value of label "${name}" holds a raw control character (${codePoint(c)}) at ${char(k)}. Label values are written as JSON strings: write it as \\u${hex4(c)} or remove it.`,
      );
    }
    if (c !== 0x5c) continue;
    if (!ESCAPE.test(quoted.slice(k + 1, k + 6))) {
      throw new AppError(
        "BAD_REQUEST",
        `${where}stream "${shown(key)}": the value of label "${name}" has an invalid escape "${shown(quoted.slice(k, k + 2))}" at ${char(k)}. Label values are written as JSON strings: write a backslash as \\\\, a quote as \\", a control character as \\uXXXX.`,
      );
    }
    k++; // the escaped character (a `\"` does not end the value)
  }
  return JSON.parse(quoted) as string;
}

const hex4 = (c: number) => c.toString(16).toUpperCase().padStart(4, "0");
const codePoint = (c: number) => `U+${hex4(c)}`;

/** A stream name for a message: cut short, control characters shown as escapes rather than sent raw. */
function shown(text: string, max = 80): string {
  return text.slice(0, max).replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${hex4(c.charCodeAt(0))}`);
}
