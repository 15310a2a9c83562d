import { LoginForm } from "@/components/access/login-form";

export const metadata = { title: "Sign in · Omen" };

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  const { next } = await searchParams;
  return <LoginForm next={typeof next === "string" ? next : undefined} />;
}
