/**
 * The overview's filter box: free text matches the stream key, and `name=value` terms match a
 * label exactly. Cards show labels as `host=vm`, Prometheus writes `host="vm"`: both are accepted
 * (also `{host="vm", cpu="0"}` pasted from a query), so what a card displays can be typed back.
 */
export interface StreamFilter {
  /** Substrings of the stream key (metric and labels), all required. */
  text: string[];
  /** Exact label matches, all required. */
  labels: { name: string; value: string }[];
}

const LABEL_TERM = /^([A-Za-z_][A-Za-z0-9_.:-]*)\s*=\s*(.*)$/s;

/** Splits on commas and whitespace outside double quotes. */
function terms(input: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c === "\\" && quoted && i + 1 < input.length) {
      cur += c + input[++i]!;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (!quoted && (c === "," || /\s/.test(c))) {
      // `host = vm` is one term: do not split around an `=`.
      const next = input.slice(i).trimStart()[0];
      if (/\s/.test(c) && (cur.trimEnd().endsWith("=") || next === "=")) {
        cur += c;
        continue;
      }
      if (cur.trim()) out.push(cur.trim());
      cur = "";
      continue;
    }
    cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function unquote(v: string): string {
  const t = v.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) {
    try {
      return JSON.parse(t) as string;
    } catch {
      return t.slice(1, -1);
    }
  }
  return t;
}

export function parseStreamFilter(input: string): StreamFilter {
  let s = input.trim();
  const out: StreamFilter = { text: [], labels: [] };
  // `metric{a="b"}`: the metric is text, the braces hold label terms.
  const brace = /^([^{}]*)\{(.*)\}$/s.exec(s);
  if (brace) {
    if (brace[1]!.trim()) out.text.push(brace[1]!.trim());
    s = brace[2]!;
  }
  for (const t of terms(s)) {
    const m = LABEL_TERM.exec(t);
    if (m && !m[2]!.startsWith("~") && m[2]!.trim() !== "") out.labels.push({ name: m[1]!, value: unquote(m[2]!) });
    else out.text.push(t);
  }
  return out;
}
