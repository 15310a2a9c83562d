import { SetupForm } from "@/components/access/setup-form";

export const metadata = { title: "Set up · Omen" };

export default async function SetupPage({ searchParams }: { searchParams: Promise<{ token?: string }> }) {
  const { token } = await searchParams;
  return <SetupForm token={typeof token === "string" ? token : ""} />;
}
