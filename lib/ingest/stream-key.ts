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
  if (!s.endsWith("}")) throw new AppError("BAD_REQUEST", `${where}stream "${s.slice(0, 80)}" opens "{" but does not end with "}".`);
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
        `${where}stream "${s.slice(0, 80)}": labels must look like name="value",other="value" (at "${body.slice(pos, pos + 30)}").`,
      );
    }
    // `__proto__` would not be stored as a label (it sets the prototype), and a second value of a name would replace the first
    if (m[1] === "__proto__" || Object.hasOwn(labels, m[1]!)) throw new AppError("BAD_REQUEST", `${where}stream "${s.slice(0, 80)}": label "${m[1]}" ${m[1] === "__proto__" ? "is not a valid label name" : "is given twice"}.`);
    labels[m[1]!] = JSON.parse(m[2]!) as string;
    pos = re.lastIndex;
    if (m[3] === "") break;
  }
  return { metric, labels };
}
