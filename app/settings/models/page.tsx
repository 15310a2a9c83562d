import { SnapshotManager } from "@/components/models/snapshot-manager";

export default function ModelsPage() {
  return <SnapshotManager />;
}
