import { AlertsHome } from "@/components/alerts/alerts-home";

export const metadata = { title: "Alerts · Omen" };

export default function AlertsPage() {
  return <AlertsHome />;
}
