"use client";
import { useMutation } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";

/** "Export post-mortem": builds the Markdown draft on the server and saves it as a file. */
export function ReportDownload({ anomalyId }: { anomalyId: string }) {
  const trpc = useTRPC();
  const report = useMutation(
    trpc.explain.report.mutationOptions({
      onSuccess: ({ fileName, markdown }) => {
        const url = URL.createObjectURL(new Blob([markdown], { type: "text/markdown;charset=utf-8" }));
        const a = document.createElement("a");
        a.href = url;
        a.download = fileName;
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      },
    }),
  );
  return (
    <>
      <button type="button" onClick={() => report.mutate({ id: anomalyId })} disabled={report.isPending} title="Download a Markdown post-mortem draft: timeline, ranked streams, explanation, labels and comments">
        {report.isPending ? "Preparing…" : "Export post-mortem (.md)"}
      </button>
      {report.error ? <span className="error">Could not build the report: {report.error.message}</span> : null}
    </>
  );
}
