import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { JobScheduler, type Job } from "./scheduler";

/** The worker's job chain: rounds run one after another, never overlapping. */
function chain() {
  let busy: Promise<unknown> = Promise.resolve();
  const submit = (round: () => Promise<void>) => {
    submit.waiting++;
    submit.maxWaiting = Math.max(submit.maxWaiting, submit.waiting);
    busy = busy.then(() => {
      submit.waiting--;
      return round();
    });
  };
  submit.waiting = 0;
  submit.maxWaiting = 0;
  return submit;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe("JobScheduler", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("runs each job once at start and then at its own period", async () => {
    const runs: Record<string, number[]> = { fast: [], slow: [] };
    const jobs: Job[] = [
      { id: "fast", everyMs: 100, run: async () => void runs.fast!.push(Date.now()) },
      { id: "slow", everyMs: 250, run: async () => void runs.slow!.push(Date.now()) },
    ];
    const s = new JobScheduler(jobs, { onError: () => expect.unreachable() });
    const t0 = Date.now();
    s.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs.fast!.map((t) => t - t0)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1_000]);
    expect(runs.slow!.map((t) => t - t0)).toEqual([0, 250, 500, 750, 1_000]);
    expect(s.status().map((j) => [j.id, j.runs, j.failures])).toEqual([
      ["fast", 11, 0],
      ["slow", 5, 0],
    ]);
    await s.stop();
  });

  it("keeps every job on schedule when one fails, and reports each failure with the job's id", async () => {
    const reported: string[] = [];
    let healthy = 0;
    let flaky = 0;
    const jobs: Job[] = [
      {
        id: "broken",
        everyMs: 100,
        run: async () => {
          throw new Error("database unreachable");
        },
      },
      {
        id: "flaky",
        everyMs: 100,
        run: async () => {
          if (++flaky === 2) throw new Error("once");
        },
      },
      { id: "healthy", everyMs: 100, run: async () => void healthy++ },
    ];
    const s = new JobScheduler(jobs, { submit: chain(), onError: (id, e) => reported.push(`${id}: ${e.message}`) });
    s.start();
    await vi.advanceTimersByTimeAsync(500);
    expect(healthy).toBe(6);
    expect(flaky).toBe(6);
    expect(reported.filter((r) => r.startsWith("broken"))).toHaveLength(6);
    expect(reported).toContain("broken: database unreachable");
    expect(reported).toContain("flaky: once");
    const byId = Object.fromEntries(s.status().map((j) => [j.id, j]));
    expect(byId.broken).toMatchObject({ runs: 6, failures: 6, lastError: "database unreachable" });
    // a later success clears the job's last error
    expect(byId.flaky).toMatchObject({ runs: 6, failures: 1, lastError: null });
    expect(byId.healthy).toMatchObject({ runs: 6, failures: 0, lastError: null });
    await s.stop();
  });

  it("a throwing error reporter does not stop the schedule", async () => {
    let runs = 0;
    const s = new JobScheduler([
        {
          id: "x",
          everyMs: 50,
          run: async () => {
            runs++;
            throw new Error("no");
          },
        },
      ], {
      onError: () => {
        throw new Error("reporter down");
      },
    });
    s.start();
    await vi.advanceTimersByTimeAsync(200);
    expect(runs).toBe(5);
    await s.stop();
  });

  it("never overlaps rounds on the chain and queues at most one waiting round per job", async () => {
    let running = 0;
    let maxRunning = 0;
    let slowRuns = 0;
    let quickRuns = 0;
    const track = async (ms: number) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(ms);
      running--;
    };
    const jobs: Job[] = [
      // takes 10 periods per round: ticks while it runs must not pile up
      { id: "slow", everyMs: 100, run: () => track(1_000).then(() => void slowRuns++) },
      { id: "quick", everyMs: 100, run: () => track(1).then(() => void quickRuns++) },
    ];
    const submit = chain();
    const s = new JobScheduler(jobs, { submit, onError: () => expect.unreachable() });
    s.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(maxRunning).toBe(1);
    // 50 ticks per job went by, but never more than one round per job waited on the chain
    expect(submit.maxWaiting).toBeLessThanOrEqual(2);
    expect(slowRuns).toBe(4);
    expect(quickRuns).toBeGreaterThanOrEqual(2);
    const stopping = s.stop();
    await vi.advanceTimersByTimeAsync(1_000);
    await stopping;
  });

  it("stop() waits for the round in flight, drops queued rounds and schedules no more", async () => {
    const started: string[] = [];
    let finished = 0;
    const jobs: Job[] = [
      {
        id: "long",
        everyMs: 1_000,
        run: async () => {
          started.push("long");
          await sleep(300);
          finished++;
        },
      },
      { id: "next", everyMs: 1_000, run: async () => void started.push("next") },
    ];
    const s = new JobScheduler(jobs, { submit: chain(), onError: () => expect.unreachable() });
    s.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(started).toEqual(["long"]); // "next" waits on the chain
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(100);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(300);
    await stopping;
    expect(finished).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(started).toEqual(["long"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("refuses duplicate ids and periods that are not positive", () => {
    const run = async () => undefined;
    expect(() => new JobScheduler([{ id: "a", everyMs: 10, run }, { id: "a", everyMs: 20, run }], { onError: () => undefined })).toThrow(/declared twice/);
    expect(() => new JobScheduler([{ id: "a", everyMs: 0, run }], { onError: () => undefined })).toThrow(/positive/);
    expect(() => new JobScheduler([{ id: "a", everyMs: Number.NaN, run }], { onError: () => undefined })).toThrow(/positive/);
  });
  it("kick runs a job now, off its schedule, and never queues it twice", async () => {
    const runs: number[] = [];
    const submit = chain();
    const s = new JobScheduler([{ id: "requests", everyMs: 15_000, run: async () => void runs.push(Date.now()) }], { submit, onError: () => expect.unreachable() });
    const t0 = Date.now();
    expect(s.kick("requests")).toBe(false); // not started
    s.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(s.kick("requests")).toBe(true);
    expect(s.kick("requests")).toBe(true); // already waiting: not queued again
    expect(s.kick("nope")).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs.map((t) => t - t0)).toEqual([0, 1_000]);
    await vi.advanceTimersByTimeAsync(14_000);
    expect(runs.map((t) => t - t0)).toEqual([0, 1_000, 15_000]);
  });
});
