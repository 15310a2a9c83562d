"use client";
import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";

/** "Export post-mortem": builds the Markdown draft on the server (a read, open to viewers) and saves it as a file. */
export function ReportDownload({ anomalyId }: { anomalyId: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [state, setState] = useState<{ pending: boolean; error?: string }>({ pending: false });
  const download = async () => {
    setState({ pending: true });
    try {
      // staleTime 0: every click builds the draft again (labels and comments may have changed)
      const { fileName, markdown } = await qc.fetchQuery({ ...trpc.explain.report.queryOptions({ id: anomalyId }), staleTime: 0 });
      const url = URL.createObjectURL(new Blob([markdown], { type: "text/markdown;charset=utf-8" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = fileName;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setState({ pending: false });
    } catch (e) {
      setState({ pending: false, error: (e as Error).message });
    }
  };
  return (
    <>
      <button type="button" onClick={() => void download()} disabled={state.pending} title="Download a Markdown post-mortem draft: timeline, ranked streams, explanation, labels and comments">
        {state.pending ? "Preparing…" : "Export post-mortem (.md)"}
      </button>
      {state.error ? <span className="error">Could not build the report: {state.error}</span> : null}
    </>
  );
}
