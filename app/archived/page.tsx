import { ArchivedList } from "@/components/archive/archived-list";

export const metadata = { title: "Archived · Omen" };

export default function ArchivedPage() {
  return <ArchivedList />;
}
