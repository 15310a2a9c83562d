import { Suspense } from "react";
import { notFound } from "next/navigation";
import { StreamView } from "@/components/stream/stream-view";

export default async function StreamPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const n = Number(id);
  if (!Number.isInteger(n) || n <= 0) notFound();
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <StreamView id={n} />
    </Suspense>
  );
}
