import { AnomalyDetail } from "@/components/anomalies/anomaly-detail";

export const metadata = { title: "Anomaly · Omen" };

export default async function AnomalyPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <AnomalyDetail id={decodeURIComponent(id)} />;
}
