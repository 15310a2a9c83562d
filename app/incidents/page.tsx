import { Suspense } from "react";
import { IncidentList } from "@/components/incidents/incident-list";

export const metadata = { title: "Incidents · Omen" };

export default function IncidentsPage() {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <IncidentList />
    </Suspense>
  );
}
