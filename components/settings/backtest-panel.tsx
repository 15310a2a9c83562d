"use client";
import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { useTRPC, type RouterInputs, type RouterOutputs } from "@/components/trpc/client";
import { formatDuration } from "@/components/anomalies/anomaly-format";
import { backtestRows, formatInstant, fromLocalInput, toLocalInput } from "./backtest-rows";
import { overridesText } from "./overrides-text";

type Backtest = RouterOutputs["config"]["backtest"];
type Side = Backtest["current"];
type Target = RouterInputs["config"]["backtest"]["target"];
type Proposed = RouterInputs["config"]["backtest"]["proposed"];

/** "all": all stored history up to its newest 30 days; a number: the last N days of data; "between": absolute. */
type RangeChoice = "all" | "1" | "3" | "7" | "14" | "between";

const pct = (x: number | null | undefined) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`);

function SideKpi({ id, title, side }: { id: string; title: string; side: Side }) {
  return (
    <div className="kpi" data-testid={id}>
      <div className="muted">{title}</div>
      <div className="n">{side.count}</div>
      <div className="muted small">
        {side.bySeverity.high} high · {side.bySeverity.medium} medium · {side.bySeverity.low} low
      </div>
      {side.score ? (
        <div className="muted small" data-testid={`${id}-truth`}>
          precision {pct(side.score.precision)} · recall {pct(side.score.recall)} ({side.score.found}/{side.score.ranges} labelled ranges)
        </div>
      ) : null}
    </div>
  );
}

function BacktestResult({ r }: { r: Backtest }) {
  const rows = backtestRows({ live: r.live.anomalies, current: r.current.anomalies, proposed: r.proposed.anomalies });
  const mark = (on: boolean) => (on ? "raised" : <span className="muted">–</span>);
  return (
    <div data-testid="backtest-result" className="panel" aria-live="polite">
      <div className="kpis">
        <SideKpi id="backtest-live" title="raised by the worker" side={r.live} />
        <SideKpi id="backtest-current" title="current settings" side={r.current} />
        <SideKpi id="backtest-proposed" title="proposed settings" side={r.proposed} />
        <div className="muted small" style={{ alignSelf: "center" }} data-testid="backtest-range">
          {formatInstant(r.fromMs)} → {formatInstant(r.toMs)} · {r.streams.length} of {r.streamsInScope} stream(s) ·{" "}
          {r.streams.reduce((n, s) => n + s.points, 0).toLocaleString()} stored samples, as recorded · {r.labelsApplied} label(s) taught ·{" "}
          {r.truthRanges.length} ground-truth range(s) · {r.elapsedMs} ms
          {r.truncated ? <strong> · only the newest samples of this range were replayed: pick a shorter range</strong> : null}
        </div>
      </div>
      {rows.length ? (
        <table data-testid="backtest-table">
          <thead>
            <tr>
              <th>Started</th>
              <th>Stream</th>
              <th>Duration</th>
              <th>Peak</th>
              <th>Severity</th>
              <th>Worker</th>
              <th>Current</th>
              <th>Proposed</th>
              {r.truthRanges.length ? <th>Ground truth</th> : null}
            </tr>
          </thead>
          <tbody>
            {rows.slice(0, 200).map((a) => (
              <tr key={a.key}>
                <td className="num">{formatInstant(a.startMs)}</td>
                <td className="mono ellipsis">{a.streamKey}</td>
                <td>{a.endMs === null ? "open" : formatDuration(a.endMs - a.startMs)}</td>
                <td className="num">{a.peakScore.toFixed(0)}</td>
                <td>
                  <span className={`badge ${a.severity}`}>{a.severity}</span>
                </td>
                <td>{mark(a.in.live)}</td>
                <td>{mark(a.in.current)}</td>
                <td>{mark(a.in.proposed)}</td>
                {r.truthRanges.length ? <td>{a.truth ? "labelled" : <span className="muted">–</span>}</td> : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">Neither setting would have raised an anomaly in this period, and the worker raised none.</p>
      )}
    </div>
  );
}

/** Backtest before saving: the proposed overrides against the current settings, on stored data. */
export function BacktestPanel({ target, proposed, blocked }: { target: Target; proposed: Proposed; blocked: boolean }) {
  const trpc = useTRPC();
  const backtest = useMutation(trpc.config.backtest.mutationOptions());
  const [choice, setChoice] = useState<RangeChoice>("all");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const fromMs = fromLocalInput(from);
  const toMs = fromLocalInput(to);
  const rangeError = choice === "between" ? (fromMs === null || toMs === null ? "Pick a start and an end." : toMs <= fromMs ? "The end must be after the start." : null) : null;
  const run = () => {
    if (choice === "all") backtest.mutate({ target, proposed });
    else if (choice === "between") backtest.mutate({ target, proposed, fromMs: fromMs!, toMs: toMs! });
    else backtest.mutate({ target, proposed, days: Number(choice) });
  };
  const last = backtest.data;
  return (
    <section className="panel" aria-labelledby="bt-h">
      <h2 id="bt-h">Backtest before saving</h2>
      <p className="muted small">
        Replays the stored samples through the worker&apos;s detection engine with the current and the proposed settings, teaching the labels given so far where the worker
        taught them, and compares both with what the worker raised.
      </p>
      <div className="row">
        <label>
          Range{" "}
          <select aria-label="Backtest range" value={choice} onChange={(e) => setChoice(e.target.value as RangeChoice)}>
            <option value="all">all stored history (up to 30 days)</option>
            {(["1", "3", "7", "14"] as const).map((n) => (
              <option key={n} value={n}>
                last {n} day{n === "1" ? "" : "s"} of data
              </option>
            ))}
            <option value="between">between…</option>
          </select>
        </label>
        {choice === "between" ? (
          <>
            <label>
              from{" "}
              <input
                type="datetime-local"
                aria-label="Backtest from"
                value={from}
                onChange={(e) => setFrom(e.target.value)}
                onFocus={() => !from && last && setFrom(toLocalInput(last.fromMs))}
              />
            </label>
            <label>
              to{" "}
              <input type="datetime-local" aria-label="Backtest to" value={to} onChange={(e) => setTo(e.target.value)} onFocus={() => !to && last && setTo(toLocalInput(last.toMs))} />
            </label>
          </>
        ) : null}
        <button type="button" className="primary" disabled={backtest.isPending || blocked || rangeError !== null} onClick={run}>
          {backtest.isPending ? "Running backtest…" : "Run backtest"}
        </button>
        <span className="muted small">
          proposed overrides: <span data-testid="proposed-overrides">{overridesText(proposed)}</span>
        </span>
      </div>
      {rangeError && choice === "between" && (from || to) ? <p className="error">{rangeError}</p> : null}
      {backtest.error ? <p className="error">{backtest.error.message}</p> : null}
      {last ? <BacktestResult r={last} /> : null}
    </section>
  );
}
