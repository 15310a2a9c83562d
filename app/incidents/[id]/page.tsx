import { notFound } from "next/navigation";
import { IncidentDetail } from "@/components/incidents/incident-detail";

export const metadata = { title: "Incident · Omen" };

export default async function IncidentPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const n = Number(id);
  if (!Number.isInteger(n) || n < 1 || n > 2_147_483_647) notFound();
  return <IncidentDetail id={n} />;
}
