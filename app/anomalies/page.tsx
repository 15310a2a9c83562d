import { Suspense } from "react";
import { AnomalyQueue } from "@/components/anomalies/anomaly-queue";

export const metadata = { title: "Anomalies · Omen" };

export default function AnomaliesPage() {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <AnomalyQueue />
    </Suspense>
  );
}
