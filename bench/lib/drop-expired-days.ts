/**
 * Runs the retention job's day drop (`dropExpiredDays`) once in a process of its own, as the
 * worker does, and prints what it did as one JSON line, with the call's start and end as wall
 * time (ms since the epoch): a benchmark's load generator shares no event loop with it, so
 * neither delays the other's clock readings.
 *
 * Usage: tsx bench/lib/drop-expired-days.ts DATABASE_URL RETENTION_MS
 */
import { closeDatabase, configureDatabase } from "../../server/db";
import { dropExpiredDays } from "../../server/repos/storage/retention";

const [url, retention] = process.argv.slice(2);
if (!url || !retention) throw new Error("usage: drop-expired-days.ts DATABASE_URL RETENTION_MS");
configureDatabase(url);
const wall = () => performance.timeOrigin + performance.now();
const from = wall();
const drop = await dropExpiredDays(Number(retention));
const to = wall();
await closeDatabase();
console.log(JSON.stringify({ ...drop, from, to }));
