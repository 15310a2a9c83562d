/**
 * `npm run import:csv -- <file.csv> [--url http://127.0.0.1:3000] [--token <token>] [--source csv] [--counter <stream>]… [--gauge <stream>]…`
 *
 * Uploads a CSV file to a running Omen (POST /api/v1/import/csv). Layouts: long
 * `timestamp,stream,value` or wide `timestamp,<stream>,…` (the detection CLI's input format);
 * timestamps ISO-8601 or epoch seconds/milliseconds. The token comes from --token or
 * OMEN_INGEST_TOKEN. A malformed file is refused whole: a bad line is reported with its number
 * and nothing is stored. A large file is committed in slices: if Omen stops in the middle (a
 * crash, a restart), the slices committed are kept, and running the same import again stores
 * the rest (samples already stored are skipped; scripts/csv-kill.int.test.ts). A new stream's
 * kind is decided from its column (a cumulative total is a counter) unless `--counter` or
 * `--gauge` names it (a stream key or metric name, repeatable); the new counters are listed.
 */
import fs from "node:fs";
import { describeRepeats } from "@/lib/ingest/repeated-times";

/** Connection errors that mean the request never reached Omen (nothing of it can be stored). */
const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

const USAGE = "usage: npm run -s import:csv -- <file.csv> [--url http://127.0.0.1:3000] [--token <token>] [--source <name>] [--counter <stream>]… [--gauge <stream>]…";

function parseArgs(argv: string[]): { file: string; url: string; token: string | undefined; source: string | undefined; kinds: Map<string, string> } {
  let file: string | undefined;
  // a client of a running Omen, which may be on another machine: server/env.ts validates the
  // server's settings, not this tool's
  let url = process.env.OMEN_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
  let token = process.env.OMEN_INGEST_TOKEN;
  let source: string | undefined;
  // a Map: `--counter __proto__` names a stream, which an object's assignment would drop
  const kinds = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (!v) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === "--url") url = next();
    else if (a === "--token") token = next();
    else if (a === "--source") source = next();
    else if (a === "--counter" || a === "--gauge") kinds.set(next(), a.slice(2));
    else if (a === "-h" || a === "--help") {
      console.log(USAGE);
      process.exit(0);
    } else if (!a.startsWith("--") && !file) file = a;
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (!file) throw new Error(USAGE);
  return { file, url: url.replace(/\/+$/, ""), token, source, kinds };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (!args.token) {
    console.error("No ingest token: pass --token or set OMEN_INGEST_TOKEN (it is shown on Settings → Sources).");
    return 2;
  }
  if (!fs.existsSync(args.file)) {
    console.error(`File not found: ${args.file}`);
    return 2;
  }
  const body = fs.readFileSync(args.file);
  const query = new URLSearchParams({ ...(args.source ? { source: args.source } : {}), ...(args.kinds.size ? { kinds: JSON.stringify(Object.fromEntries(args.kinds)) } : {}) });
  const target = `${args.url}/api/v1/import/csv${query.size ? `?${query.toString()}` : ""}`;
  for (let attempt = 0; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(target, { method: "POST", headers: { authorization: `Bearer ${args.token}`, "content-type": "text/csv" }, body });
    } catch (e) {
      const cause = (e as Error).cause;
      const code = cause instanceof Error && "code" in cause ? String(cause.code) : "";
      if (UNREACHABLE.has(code)) {
        console.error(`Cannot reach Omen at ${args.url}: ${code}. Is it running (npm start)? Use --url to point elsewhere.`);
      } else {
        console.error(
          `The connection to Omen at ${args.url} was lost during the import (${cause instanceof Error ? cause.message : (e as Error).message}). ` +
            `Part of the file may be stored (it is committed in slices). Run the same import again once Omen answers: samples already stored are skipped, the rest are added.`,
        );
      }
      return 1;
    }
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if ((res.status === 429 || res.status === 503) && attempt < 10) {
      const wait = Number(res.headers.get("retry-after") ?? 5);
      console.error(`Omen is busy (${res.status}); retrying in ${wait} s…`);
      await new Promise((r) => setTimeout(r, wait * 1000));
      continue;
    }
    if (!res.ok) {
      console.error(`Import failed (HTTP ${res.status}): ${String(json.error ?? "unknown error")}`);
      return 1;
    }
    console.log(
      `Imported ${args.file} (${String(json.layout)} layout, ${String(json.rows)} rows) into source "${String(json.source)}": ` +
        `${String(json.inserted)} new samples of ${String(json.received)} (${String(json.series)} streams, ${String(json.newStreams)} new).`,
    );
    const repeats = describeRepeats(Number(json.duplicates ?? 0), Array.isArray(json.duplicateExamples) ? (json.duplicateExamples as string[]) : []);
    if (repeats) console.log(repeats);
    const streams = Array.isArray(json.streams) ? (json.streams as { key: string; kind: string; kindFrom: string }[]) : [];
    const counters = streams.filter((x) => x.kind === "counter" && x.kindFrom !== "stored");
    if (counters.length) {
      const why = (x: { kindFrom: string }) => (x.kindFrom === "values" ? "its values" : x.kindFrom);
      console.log(`Counters (scored by their rate): ${counters.slice(0, 20).map((x) => `${x.key} (${why(x)})`).join(", ")}${counters.length > 20 ? ` and ${counters.length - 20} more` : ""}.`);
    }
    return 0;
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error((e as Error).message);
    process.exit(2);
  },
);
