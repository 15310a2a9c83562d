#!/usr/bin/env node
// Offline stand-in for Prisma's native `schema-engine` binary.
//
// The Prisma CLI spawns whatever PRISMA_SCHEMA_ENGINE_BINARY names and talks to it:
//   * `--version`                                   -> prints a version line
//   * `--datasource <json> cli <command>`           -> one-shot commands (can-connect-to-database,
//                                                      create-database, drop-database); errors are
//                                                      JSON log lines on stderr, exit code 1
//   * `[--datamodels <file>]... [--datasource <json>]` -> JSON-RPC 2.0 over stdio, one JSON object
//                                                      per line (migrate deploy/dev/status/diff/reset,
//                                                      db push/pull/execute, ...)
// This script serves those calls with @prisma/schema-engine-wasm (Prisma's own engine compiled to
// Wasm), which talks to the database through a driver adapter:
//   * postgres:// / postgresql://  -> @prisma/adapter-pg (also PGlite served by pglite-socket)
//   * pglite:<dir> / pglite:memory -> pglite-prisma-adapter over an in-process PGlite (only when no
//                                     other process has that data dir open)
// See docs/prisma-offline.md.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { randomUUID } from "node:crypto";

const require = createRequire(import.meta.url);

// Nothing but JSON-RPC responses may reach stdout: route stray console output to stderr.
const rpcOut = process.stdout;
console.log = console.error;
console.info = console.error;

// ---------------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const out = { datamodels: [], datasource: {}, positional: [], version: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`);
      return argv[++i];
    };
    if (a === "--version" || a === "-V") out.version = true;
    else if (a === "--help" || a === "-h") out.help = true;
    else if (a === "--datamodels" || a === "-d") out.datamodels.push(next());
    else if (a === "--datasource") out.datasource = JSON.parse(next());
    else if (a === "--enabled-preview-features" || a === "--extension-types") next();
    else if (a.startsWith("--datamodels=")) out.datamodels.push(a.slice(13));
    else if (a.startsWith("--datasource=")) out.datasource = JSON.parse(a.slice(13));
    else out.positional.push(a);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Logging in the native engine's format (the CLI parses stderr lines as JSON and keeps
// `fields.message`; `level: "ERROR"` lines become the error it reports if we exit non-zero).

function logLine(level, message, extra = {}) {
  process.stderr.write(
    JSON.stringify({
      timestamp: new Date().toISOString(),
      level,
      fields: { message, ...extra },
      target: "schema_engine::logger",
    }) + "\n",
  );
}

const debugEnabled = /schema|engine|\*/i.test(process.env.DEBUG ?? "");
const debug = (...args) => {
  if (debugEnabled) process.stderr.write(`[schema-engine-wasm] ${args.join(" ")}\n`);
};

// ---------------------------------------------------------------------------------------------
// Wasm engine (loaded at most once per process: a second instantiation corrupts the first)

let wasmBindings;
async function loadWasm() {
  if (wasmBindings) return wasmBindings;
  if (!globalThis.PRISMA_WASM_PANIC_REGISTRY) {
    globalThis.PRISMA_WASM_PANIC_REGISTRY = {
      message: "",
      get() {
        return this.message;
      },
      set_message(m) {
        this.message = `RuntimeError: ${m}`;
      },
    };
  }
  const bg = await import("@prisma/schema-engine-wasm/schema_engine_bg");
  const wasmPath = path.join(path.dirname(require.resolve("@prisma/schema-engine-wasm")), "schema_engine_bg.wasm");
  const module = new WebAssembly.Module(fs.readFileSync(wasmPath));
  const instance = new WebAssembly.Instance(module, { "./schema_engine_bg.js": bg });
  bg.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  wasmBindings = bg;
  return bg;
}

function packageVersion() {
  const pkg = path.join(path.dirname(require.resolve("@prisma/schema-engine-wasm")), "package.json");
  return JSON.parse(fs.readFileSync(pkg, "utf8")).version;
}

async function engineVersion() {
  try {
    return (await loadWasm()).version();
  } catch {
    return packageVersion();
  }
}

// ---------------------------------------------------------------------------------------------
// Connection URLs

/** @returns {{kind: "pg", url: string} | {kind: "pglite", dataDir: string | undefined, label: string}} */
function parseTarget(url) {
  if (!url) throw new UserError("P1012", "No datasource URL: set DATABASE_URL (see prisma.config.ts).");
  if (/^postgres(ql)?:\/\//i.test(url)) return { kind: "pg", url };
  const m = /^pglite:(\/\/)?(.*)$/i.exec(url);
  if (m) {
    const rest = decodeURIComponent((m[2] ?? "").replace(/\?.*$/, ""));
    if (rest === "" || rest === "memory" || rest.startsWith("memory:")) return { kind: "pglite", dataDir: undefined, label: "memory" };
    return { kind: "pglite", dataDir: path.resolve(rest), label: path.resolve(rest) };
  }
  throw new UserError(
    "P1013",
    `The provided database string is invalid. Expected postgres://, postgresql:// or pglite:<dir>, got \`${redact(url)}\`.`,
  );
}

function redact(url) {
  return String(url).replace(/\/\/([^:/@]+):([^@]*)@/, "//$1:***@");
}

function pgLocation(url) {
  try {
    const u = new URL(url);
    return { host: u.hostname || "localhost", port: u.port || "5432", database: decodeURIComponent(u.pathname.replace(/^\//, "")) || u.username || "postgres", user: decodeURIComponent(u.username || "postgres") };
  } catch {
    return { host: "?", port: "?", database: "?", user: "?" };
  }
}

function withDatabase(url, database) {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

class UserError extends Error {
  constructor(code, message, meta = {}) {
    super(message);
    this.code = code;
    this.meta = meta;
  }
}

/** Map a pg / network error to the Prisma user-facing error the native engine would report. */
function toUserError(err, url) {
  if (err instanceof UserError) return err;
  const loc = pgLocation(url ?? "");
  const code = err?.code;
  if (code === "3D000")
    return new UserError("P1003", `Database \`${loc.database}\` does not exist on the database server at \`${loc.host}:${loc.port}\`.`, {
      database_file_name: loc.database,
    });
  if (code === "28P01" || code === "28000")
    return new UserError(
      "P1000",
      `Authentication failed against database server at \`${loc.host}\`, the provided database credentials for \`${loc.user}\` are not valid.\n\nPlease make sure to provide valid database credentials for the database server at \`${loc.host}\`.`,
    );
  if (["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ETIMEDOUT", "ECONNRESET", "EAI_AGAIN"].includes(code))
    return new UserError(
      "P1001",
      `Can't reach database server at \`${loc.host}:${loc.port}\`\n\nPlease make sure your database server is running at \`${loc.host}:${loc.port}\`.`,
    );
  if (code === "42P04") return new UserError("P1009", `Database \`${loc.database}\` already exists on the database server at \`${loc.host}:${loc.port}\``);
  return new UserError(undefined, err?.message ?? String(err));
}

// ---------------------------------------------------------------------------------------------
// Driver adapters

let pgPatched = false;
/**
 * Work around @prisma/adapter-pg limitations for schema-engine use (in this process only):
 *  - Postgres's internal `"char"` type (oid 18: pg_class.relkind, pg_constraint.contype, ...) is
 *    unsupported by the adapter and breaks introspection. The engine reads those columns as
 *    chars: let the adapter parse them as text, then label the column `Character`.
 *  - `executeScript` splits scripts on ";" (breaks `$$ ... ; ... $$` bodies and string literals):
 *    send the whole script as one simple-protocol query, as the native engine does.
 */
function patchPgAdapter(adapterInstance, ColumnTypeEnum) {
  if (pgPatched) return;
  const adapterProto = Object.getPrototypeOf(adapterInstance);
  const queryableProto = Object.getPrototypeOf(adapterProto);
  const { performIO, queryRaw } = queryableProto;
  if (typeof performIO !== "function" || typeof queryRaw !== "function")
    throw new Error("unexpected @prisma/adapter-pg internals: no performIO/queryRaw");
  queryableProto.queryRaw = async function (query) {
    let charColumns = [];
    const target = this;
    const view = Object.create(target, {
      performIO: {
        value: async (q) => {
          const result = await performIO.call(target, q);
          charColumns = [];
          result?.fields?.forEach((f, i) => {
            if (f.dataTypeID === 18) {
              f.dataTypeID = 25;
              charColumns.push(i);
            }
          });
          return result;
        },
      },
    });
    const res = await queryRaw.call(view, query);
    for (const i of charColumns) res.columnTypes[i] = ColumnTypeEnum.Character;
    return res;
  };
  adapterProto.executeScript = async function (script) {
    try {
      await this.client.query(script);
    } catch (error) {
      this.onError(error);
    }
  };
  pgPatched = true;
}

function driverAdapterUtils() {
  return require(createRequire(require.resolve("@prisma/adapter-pg")).resolve("@prisma/driver-adapter-utils"));
}

async function pgAdapterFor(url) {
  const { PrismaPg } = await import("@prisma/adapter-pg");
  // `?schema=` selects the Postgres schema, as with the native engine: it becomes the search_path
  // (unqualified names in migration scripts) and the schema the engine describes.
  const schema = new URL(url).searchParams.get("schema") || undefined;
  const config = { connectionString: url, max: 1, connectionTimeoutMillis: 10_000 };
  if (schema) config.options = `-c search_path="${schema.replace(/"/g, '""')}"`;
  // One connection, like the native engine: session state (advisory lock, search_path) must stick.
  const factory = new PrismaPg(config, schema ? { schema } : undefined);
  const adapter = await factory.connect();
  patchPgAdapter(adapter, driverAdapterUtils().ColumnTypeEnum);
  if (schema) await adapter.executeScript(`CREATE SCHEMA IF NOT EXISTS "${schema.replace(/"/g, '""')}"`);
  return adapter;
}

function patchPgliteAdapter(adapter) {
  // pglite-prisma-adapter 0.7.2 does not await exec() in executeScript: errors would be lost.
  adapter.executeScript = async function (script) {
    try {
      await this.client.exec(script);
    } catch (e) {
      this.onError(e);
    }
  };
  return adapter;
}

const openPglites = [];
async function pgliteAdapterFor(dataDir) {
  const { PGlite } = await import("@electric-sql/pglite");
  const { PrismaPGlite } = await import("pglite-prisma-adapter");
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
  const db = dataDir ? new PGlite(dataDir) : new PGlite();
  await db.waitReady;
  openPglites.push(db);
  const adapter = await new PrismaPGlite(db).connect();
  return patchPgliteAdapter(adapter);
}

async function adapterFor(url) {
  const target = parseTarget(url);
  try {
    return target.kind === "pg" ? await pgAdapterFor(url) : await pgliteAdapterFor(target.dataDir);
  } catch (e) {
    throw toUserError(e, url);
  }
}

async function queryOne(adapter, sql) {
  const res = await adapter.queryRaw({ sql, args: [], argTypes: [] });
  if (res && typeof res === "object" && "ok" in res) {
    if (!res.ok) throw res.error;
    return res.value.rows[0];
  }
  return res.rows[0];
}

async function isPgliteServer(adapter) {
  const row = await queryOne(adapter, "SELECT version()");
  return /pglite|emscripten|wasm32/i.test(String(row?.[0] ?? ""));
}

/** Drop everything in a shadow database so the engine starts from empty. */
async function resetShadow(adapter) {
  await adapter.executeScript(`DO $$
DECLARE s record;
BEGIN
  FOR s IN SELECT nspname FROM pg_namespace
           WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
             AND nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
  LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', s.nspname);
  END LOOP;
  CREATE SCHEMA IF NOT EXISTS public;
END $$;`);
}

const cleanups = [];

/**
 * The Wasm engine has no shadow database of its own for Postgres: it calls connectToShadowDb().
 *  1. datasource.shadowDatabaseUrl set -> that database, emptied first.
 *  2. PRISMA_SHADOW_DB=pglite, a pglite: main URL, or a main server that is PGlite (pglite-socket
 *     serves one database whatever name the client asks for) -> a throwaway in-memory PGlite.
 *  3. otherwise -> a temporary database on the main server, dropped afterwards (what the native
 *     engine does); falls back to in-memory PGlite if CREATE DATABASE is not allowed.
 */
function makeShadowConnector(datasource, getMainAdapter) {
  return async () => {
    if (datasource.shadowDatabaseUrl) {
      if (datasource.url && datasource.shadowDatabaseUrl === datasource.url)
        throw new UserError(undefined, "The shadow database URL must differ from the main datasource URL.");
      const adapter = await adapterFor(datasource.shadowDatabaseUrl);
      if (parseTarget(datasource.shadowDatabaseUrl).kind === "pg" && (await isPgliteServer(adapter)) && datasource.url && parseTarget(datasource.url).kind === "pg") {
        const a = pgLocation(datasource.url);
        const b = pgLocation(datasource.shadowDatabaseUrl);
        if (a.host === b.host && a.port === b.port)
          throw new UserError(undefined, "shadowDatabaseUrl points at the same PGlite server as the main datasource; a PGlite server has only one database.");
      }
      await resetShadow(adapter);
      return adapter;
    }
    const mode = (process.env.PRISMA_SHADOW_DB ?? "auto").toLowerCase();
    const main = datasource.url ? parseTarget(datasource.url) : undefined;
    let useServer = mode !== "pglite" && main?.kind === "pg";
    if (useServer && mode !== "server") useServer = !(await isPgliteServer(await getMainAdapter()));
    if (useServer) {
      const name = `prisma_migrate_shadow_db_${randomUUID().replace(/-/g, "_")}`;
      const mainAdapter = await getMainAdapter();
      let created = false;
      try {
        await mainAdapter.executeScript(`CREATE DATABASE "${name}"`);
        created = true;
      } catch (e) {
        if (mode === "server") throw e;
        logLine("WARN", `Could not create a temporary shadow database (${e?.message ?? e}); using an in-memory PGlite instead.`);
      }
      if (created) {
        const drop = async () => {
          try {
            await mainAdapter.executeScript(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
          } catch (e) {
            logLine("WARN", `Could not drop shadow database ${name}: ${e?.message ?? e}`);
          }
        };
        const adapter = await pgAdapterFor(withDatabase(datasource.url, name));
        let disposed = false;
        const dispose = async () => {
          if (disposed) return;
          disposed = true;
          await adapter.client.end().catch(() => {});
          await drop();
        };
        cleanups.push(dispose);
        adapter.dispose = dispose;
        return adapter;
      }
    }
    const adapter = await pgliteAdapterFor(undefined);
    return adapter;
  };
}

// ---------------------------------------------------------------------------------------------
// Engine (RPC mode)

function readDatamodels(files) {
  if (!files.length) return undefined;
  return files.map((f) => [f, fs.readFileSync(path.resolve(f), "utf8")]);
}

let enginePromise;
let errorRegistry;
let mainAdapterGetter;
function getEngine(args) {
  if (enginePromise) return enginePromise;
  enginePromise = (async () => {
    const bg = await loadWasm();
    const datasource = args.datasource ?? {};
    let mainAdapterPromise;
    const getMainAdapter = () => {
      if (!mainAdapterPromise) {
        const pending = (datasource.url ? adapterFor(datasource.url) : pgliteAdapterFor(undefined)).then((adapter) => {
          // Connect again after the engine disposes the connection.
          const dispose = adapter.dispose.bind(adapter);
          adapter.dispose = async () => {
            if (mainAdapterPromise === pending) mainAdapterPromise = undefined;
            await dispose();
          };
          return adapter;
        });
        mainAdapterPromise = pending;
        pending.catch(() => {
          if (mainAdapterPromise === pending) mainAdapterPromise = undefined;
        });
      }
      return mainAdapterPromise;
    };
    mainAdapterGetter = getMainAdapter;
    const factory = {
      provider: "postgres",
      adapterName: datasource.url && parseTarget(datasource.url).kind === "pglite" ? "pglite-prisma-adapter" : "@prisma/adapter-pg",
      connect: getMainAdapter,
      connectToShadowDb: makeShadowConnector(datasource, getMainAdapter),
    };
    const bound = driverAdapterUtils().bindMigrationAwareSqlAdapterFactory(factory);
    errorRegistry = bound.errorRegistry;
    const onLog = (line) => {
      // The engine's tracing output is already JSON in the native format; pass it through.
      const text = String(line).trimEnd();
      if (!text) return;
      if (text.startsWith("{")) process.stderr.write(text + "\n");
      else logLine("INFO", text);
    };
    return bg.SchemaEngine.new({ datamodels: readDatamodels(args.datamodels) }, onLog, bound);
  })();
  enginePromise.catch(() => {
    enginePromise = undefined;
  });
  return enginePromise;
}

const WASM_METHODS = new Set([
  "applyMigrations",
  "createMigration",
  "dbExecute",
  "devDiagnostic",
  "diagnoseMigrationHistory",
  "diff",
  "ensureConnectionValidity",
  "evaluateDataLoss",
  "introspect",
  "introspectSql",
  "markMigrationApplied",
  "markMigrationRolledBack",
  "reset",
  "schemaPush",
]);

async function createDatabaseFor(url) {
  const target = parseTarget(url);
  if (target.kind === "pglite") {
    if (target.dataDir) fs.mkdirSync(target.dataDir, { recursive: true });
    return target.label;
  }
  const loc = pgLocation(url);
  const pg = (await import("pg")).default;
  let lastErr;
  for (const maintenance of ["postgres", "template1"]) {
    const client = new pg.Client({ connectionString: withDatabase(url, maintenance), connectionTimeoutMillis: 10_000 });
    try {
      await client.connect();
      await client.query(`CREATE DATABASE "${loc.database.replace(/"/g, '""')}"`);
      return loc.database;
    } catch (e) {
      lastErr = e;
      if (e?.code === "42P04") throw toUserError(e, url);
    } finally {
      await client.end().catch(() => {});
    }
  }
  throw toUserError(lastErr, url);
}

async function dropDatabaseFor(url) {
  const target = parseTarget(url);
  if (target.kind === "pglite") {
    if (target.dataDir) fs.rmSync(target.dataDir, { recursive: true, force: true });
    return;
  }
  const loc = pgLocation(url);
  const pg = (await import("pg")).default;
  const client = new pg.Client({ connectionString: withDatabase(url, "postgres"), connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    await client.query(`DROP DATABASE "${loc.database.replace(/"/g, '""')}" WITH (FORCE)`);
  } catch (e) {
    throw toUserError(e, url);
  } finally {
    await client.end().catch(() => {});
  }
}

function datasourceUrl(param, args) {
  if (param?.tag === "ConnectionString" && param.url) return param.url;
  return args.datasource?.url;
}

// ---------------------------------------------------------------------------------------------
// evaluateDataLoss (used by `migrate dev`): this Wasm build fails it for Postgres ("shadow DB must
// be provided through an external factory"), while `diff` from the migrations directory works.
// Rebuild it from that diff: the step count, plus data-loss warnings and unexecutable steps found
// by looking at the statements and at the data they would touch in the main database.

const IDENT = String.raw`"((?:[^"]|"")+)"`;
const TABLE = String.raw`(?:${IDENT}\.)?${IDENT}`;
const unquote = (s) => s.replace(/""/g, '"');
const qualified = (schema, table) => (schema ? `"${schema.replace(/"/g, '""')}".` : "") + `"${table.replace(/"/g, '""')}"`;

async function countRows(sql) {
  try {
    const adapter = await mainAdapterGetter?.();
    if (!adapter) return undefined;
    const row = await queryOne(adapter, sql);
    return Number(row?.[0] ?? 0);
  } catch {
    return undefined; // table not there yet (pending migrations) or not readable: no claim
  }
}

/** Split a Prisma-generated script into statements (no `$$` bodies in generated SQL). */
function statements(script) {
  return script
    .split(/;\s*\n/)
    .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
    .filter(Boolean);
}

async function evaluateDataLoss(engine, input) {
  const diff = await engine.diff({
    from: { tag: "migrations", ...input.migrationsList },
    to: { tag: "schemaDatamodel", files: input.schema.files },
    script: true,
    exitCode: true,
    filters: input.filters,
  });
  const script = diff.stdout ?? "";
  if (diff.exitCode !== 2 || !script.trim()) return { migrationSteps: 0, warnings: [], unexecutableSteps: [] };
  const stmts = statements(script);
  const warnings = [];
  const unexecutableSteps = [];
  let m;
  for (const [stepIndex, stmt] of stmts.entries()) {
    if ((m = new RegExp(`^DROP TABLE ${TABLE}`, "i").exec(stmt))) {
      const [schema, table] = [m[1] && unquote(m[1]), unquote(m[2])];
      const n = await countRows(`SELECT count(*)::int FROM ${qualified(schema, table)}`);
      if (n) warnings.push({ stepIndex, message: `You are about to drop the \`${table}\` table, which is not empty (${n} rows).` });
      continue;
    }
    const alter = new RegExp(`^ALTER TABLE ${TABLE}\\s+([\\s\\S]*)$`, "i").exec(stmt);
    if (alter) {
      const [schema, table, body] = [alter[1] && unquote(alter[1]), unquote(alter[2]), alter[3]];
      const t = qualified(schema, table);
      for (const clause of body.split(/,\s*\n?\s*(?=(?:ADD|DROP|ALTER|RENAME)\b)/i)) {
        let c;
        if ((c = new RegExp(`^DROP COLUMN ${IDENT}`, "i").exec(clause))) {
          const col = unquote(c[1]);
          const n = await countRows(`SELECT count(*)::int FROM ${t} WHERE "${col.replace(/"/g, '""')}" IS NOT NULL`);
          if (n) warnings.push({ stepIndex, message: `You are about to drop the column \`${col}\` on the \`${table}\` table, which still contains ${n} non-null values.` });
        } else if ((c = new RegExp(`^ADD COLUMN\\s+${IDENT}\\s+(.*)$`, "is").exec(clause))) {
          const col = unquote(c[1]);
          const def = c[2];
          if (/\bNOT NULL\b/i.test(def) && !/\bDEFAULT\b/i.test(def) && !/\b(SERIAL|SMALLSERIAL|BIGSERIAL)\b/i.test(def)) {
            const n = await countRows(`SELECT count(*)::int FROM ${t}`);
            if (n)
              unexecutableSteps.push({
                stepIndex,
                message: `Added the required column \`${col}\` to the \`${table}\` table without a default value. There are ${n} rows in this table, it is not possible to execute this step.`,
              });
          }
        } else if ((c = new RegExp(`^ALTER COLUMN ${IDENT}\\s+SET NOT NULL`, "i").exec(clause))) {
          const col = unquote(c[1]);
          const n = await countRows(`SELECT count(*)::int FROM ${t} WHERE "${col.replace(/"/g, '""')}" IS NULL`);
          if (n)
            unexecutableSteps.push({
              stepIndex,
              message: `Made the column \`${col}\` on table \`${table}\` required, but there are ${n} existing NULL values.`,
            });
        } else if ((c = new RegExp(`^ALTER COLUMN ${IDENT}\\s+SET DATA TYPE\\s+(.*)$`, "is").exec(clause))) {
          const col = unquote(c[1]);
          const n = await countRows(`SELECT count(*)::int FROM ${t} WHERE "${col.replace(/"/g, '""')}" IS NOT NULL`);
          if (n)
            warnings.push({
              stepIndex,
              message: `You are about to alter the column \`${col}\` on the \`${table}\` table, which contains ${n} non-null values. The data in that column will be cast to \`${c[2].trim()}\`.`,
            });
        }
      }
      continue;
    }
    if ((m = new RegExp(`^CREATE UNIQUE INDEX ${IDENT} ON ${TABLE}\\s*\\(([^)]*)\\)`, "i").exec(stmt))) {
      const [schema, table, cols] = [m[2] && unquote(m[2]), unquote(m[3]), m[4]];
      const n = await countRows(`SELECT count(*)::int FROM ${qualified(schema, table)}`);
      if (n)
        warnings.push({
          stepIndex,
          message: `A unique constraint covering the columns \`[${cols.replace(/"/g, "").replace(/\s+/g, "")}]\` on the table \`${table}\` will be added. If there are existing duplicate values, this will fail.`,
        });
      continue;
    }
    if (/^(DROP TYPE|ALTER TYPE .* RENAME TO)/i.test(stmt) && /_old"/i.test(stmt)) {
      warnings.push({ stepIndex, message: `An enum is being changed: ${stmt.split("\n")[0]}. Rows holding a removed value would make this step fail.` });
    }
  }
  return { migrationSteps: stmts.length, warnings, unexecutableSteps };
}

async function handle(method, params, args) {
  switch (method) {
    case "getDatabaseVersion":
    case "version": {
      const engine = await getEngine(args);
      return engine.version(params ?? undefined);
    }
    case "createDatabase":
      return { databaseName: await createDatabaseFor(datasourceUrl(params?.datasource, args)) };
    case "dropDatabase":
      await dropDatabaseFor(typeof params === "string" ? params : datasourceUrl(params?.datasource, args));
      return {};
    case "evaluateDataLoss":
      return evaluateDataLoss(await getEngine(args), params);
    case "debugPanic": {
      const engine = await getEngine(args);
      engine.debugPanic();
      return {};
    }
    default: {
      if (!WASM_METHODS.has(method)) {
        const err = new Error(`Method not found: ${method}`);
        err.rpcCode = -32601;
        throw err;
      }
      const engine = await getEngine(args);
      // Call through the instance: extracting the method breaks the wasm-bindgen `this` binding.
      const result = await engine[method](params);
      if (method === "diff" && result && typeof result.stdout === "string") {
        // The native engine has the CLI print the diff through a `print` request.
        const { stdout, ...rest } = result;
        if (stdout) printViaCli(stdout.replace(/\n$/, ""));
        return { ...rest, stdout: null };
      }
      return result === undefined ? {} : result;
    }
  }
}

/**
 * JS errors thrown inside the adapter (ours included) are kept in the binder's error registry;
 * the engine only reports "External error id#N". Put the original message back in its place.
 */
function resolveExternalError(err) {
  const message = typeof err?.message === "string" ? err.message : undefined;
  const m = message && /External error id#(\d+)/.exec(message);
  const registered = m ? errorRegistry?.consumeError?.(Number(m[1])) : undefined;
  if (!m || !registered) return err;
  const original = toUserError(registered.error);
  return new UserError(original.code, message.replace(m[0], original.message), original.meta);
}

function errorPayload(err) {
  if (err?.rpcCode) return { code: err.rpcCode, message: err.message };
  err = resolveExternalError(err);
  const isPanic = err?.name === "RuntimeError" || (err instanceof WebAssembly.RuntimeError);
  if (isPanic) {
    const message = globalThis.PRISMA_WASM_PANIC_REGISTRY?.get?.() || String(err?.message ?? err);
    // The CLI shows `error.message` for panics.
    return { code: 4466, message, data: { is_panic: true, message, backtrace: err?.stack ?? "" } };
  }
  const cause = err?.cause;
  if (err?.name === "DriverAdapterError" && cause?.kind) {
    const map = {
      DatabaseDoesNotExist: ["P1003", `Database \`${cause.db ?? "?"}\` does not exist.`],
      DatabaseNotReachable: ["P1001", `Can't reach database server${cause.host ? ` at \`${cause.host}:${cause.port}\`` : ""}.`],
      AuthenticationFailed: ["P1000", `Authentication failed against the database server${cause.user ? ` for \`${cause.user}\`` : ""}.`],
      DatabaseAccessDenied: ["P1010", `User was denied access on the database \`${cause.db ?? "?"}\`.`],
    };
    const [code, message] = map[cause.kind] ?? [undefined, cause.message ? `${cause.kind}: ${cause.message}` : `${cause.kind}: ${JSON.stringify(cause)}`];
    return { code: 4466, message: "An error happened. Check the data field for details.", data: { is_panic: false, message, meta: cause, error_code: code } };
  }
  if (err instanceof UserError || (err && typeof err === "object" && "code" in err && typeof err.message === "string")) {
    const code = typeof err.code === "string" && /^P\d{4}$/.test(err.code) ? err.code : undefined;
    return {
      code: 4466,
      message: "An error happened. Check the data field for details.",
      data: { is_panic: false, message: err.message, meta: err.meta ?? {}, ...(code ? { error_code: code } : {}) },
    };
  }
  const message = err?.message ?? String(err);
  return { code: 4466, message: "An error happened. Check the data field for details.", data: { is_panic: false, message, meta: {} } };
}

let printId = 0;
/** Ask the CLI to print to its stdout (engine -> CLI request; the CLI answers with `{}`). */
function printViaCli(content) {
  rpcOut.write(JSON.stringify({ jsonrpc: "2.0", id: `print-${++printId}`, method: "print", params: { content } }) + "\n");
}

function serveRpc(args) {
  let chain = Promise.resolve();
  let buffered = "";
  const write = (obj) => rpcOut.write(JSON.stringify(obj) + "\n");

  const onLine = (line) => {
    if (!line.trim()) return;
    let req;
    try {
      req = JSON.parse(line);
    } catch (e) {
      write({ jsonrpc: "2.0", id: null, error: { code: -32700, message: `Parse error: ${e.message}` } });
      return;
    }
    if (req.method === undefined && req.id !== undefined) return; // a response to us (never expected)
    chain = chain.then(async () => {
      debug("->", req.method);
      currentRequest = req;
      try {
        const result = await handle(req.method, req.params, args);
        if (req.id !== undefined) write({ jsonrpc: "2.0", id: req.id, result });
      } catch (err) {
        debug("error in", req.method, err?.stack ?? err);
        const error = errorPayload(err);
        if (error.data?.is_panic) logLine("ERROR", error.data.message, { is_panic: true });
        if (req.id !== undefined) write({ jsonrpc: "2.0", id: req.id, error });
      }
    });
  };

  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => {
    buffered += chunk;
    let idx;
    while ((idx = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, idx);
      buffered = buffered.slice(idx + 1);
      onLine(line);
    }
  });
  process.stdin.on("end", () => {
    if (buffered.trim()) onLine(buffered);
    chain.then(() => shutdown(0));
  });
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

let shuttingDown = false;
async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  const timer = setTimeout(() => process.exit(code), 5_000);
  timer.unref();
  for (const fn of cleanups.splice(0)) await fn().catch(() => {});
  for (const db of openPglites.splice(0)) await db.close().catch(() => {});
  process.exit(code);
}

// A Wasm panic can surface outside the awaited call (from the engine's executor): report it the
// way the native engine does (an ERROR log line with the panic message, exit code 101).
let currentRequest;
function onFatal(err) {
  const payload = errorPayload(err);
  const message = payload.data?.message ?? String(err?.stack ?? err);
  logLine("ERROR", message, { is_panic: Boolean(payload.data?.is_panic) });
  if (currentRequest?.id !== undefined) {
    rpcOut.write(JSON.stringify({ jsonrpc: "2.0", id: currentRequest.id, error: payload }) + "\n");
  }
  shutdown(payload.data?.is_panic ? 101 : 1);
}
process.on("uncaughtException", onFatal);
process.on("unhandledRejection", onFatal);

// The CLI ends stdin and then kills us right away: still close PGlite and drop temp databases.
process.on("SIGTERM", () => shutdown(0));
process.on("SIGINT", () => shutdown(130));

async function runCliCommand(args) {
  const [, command] = args.positional;
  const url = args.datasource?.url;
  logLine("INFO", `Starting schema engine CLI (@prisma/schema-engine-wasm ${packageVersion()}): ${command}`);
  try {
    switch (command) {
      case "can-connect-to-database": {
        const target = parseTarget(url);
        if (target.kind === "pglite") return 0; // PGlite creates its data dir on open
        const pg = (await import("pg")).default;
        const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
        try {
          await client.connect();
          await client.query("SELECT 1");
        } catch (e) {
          throw toUserError(e, url);
        } finally {
          await client.end().catch(() => {});
        }
        return 0;
      }
      case "create-database":
        await createDatabaseFor(url);
        return 0;
      case "drop-database":
        await dropDatabaseFor(url);
        return 0;
      default:
        throw new UserError(undefined, `Unknown schema engine CLI command: ${command}`);
    }
  } catch (e) {
    const err = toUserError(e, url);
    logLine("ERROR", err.message, err.code ? { error_code: err.code } : {});
    return 1;
  }
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    logLine("ERROR", `Invalid arguments: ${e.message}`);
    process.exit(1);
  }
  if (args.version) {
    rpcOut.write(`schema-engine-cli ${await engineVersion()} (wasm)\n`);
    process.exit(0);
  }
  if (args.help) {
    rpcOut.write(
      "Prisma schema engine (Wasm, offline)\n\nUsage:\n  prisma-schema-engine.mjs [--datamodels FILE]... [--datasource JSON]   JSON-RPC over stdio\n  prisma-schema-engine.mjs --datasource JSON cli can-connect-to-database|create-database|drop-database\n  prisma-schema-engine.mjs --version\n",
    );
    process.exit(0);
  }
  if (args.positional[0] === "cli") {
    const code = await runCliCommand(args);
    await shutdown(code);
    return;
  }
  serveRpc(args);
}

main().catch((e) => {
  logLine("ERROR", e?.stack ?? String(e));
  process.exit(1);
});
