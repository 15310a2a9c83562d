import { Suspense } from "react";
import { DetectorSettings } from "@/components/settings/detector-settings";

export const metadata = { title: "Detectors · Omen" };

export default function DetectorSettingsPage() {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <DetectorSettings />
    </Suspense>
  );
}
