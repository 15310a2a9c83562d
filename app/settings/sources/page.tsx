import { SourcesSettings } from "@/components/sources/sources-settings";

export const dynamic = "force-dynamic";

export default function SourcesPage() {
  return <SourcesSettings />;
}
