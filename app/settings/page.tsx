import { SettingsHome } from "@/components/settings/settings-home";

export const metadata = { title: "Settings · Omen" };

export default function SettingsPage() {
  return <SettingsHome />;
}
