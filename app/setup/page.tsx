import { SetupForm } from "@/components/access/setup-form";
import { setupTokenValid } from "@/server/services/auth/users-service";

export const metadata = { title: "Set up · Omen" };
export const dynamic = "force-dynamic";

export default async function SetupPage({ searchParams }: { searchParams: Promise<{ token?: string }> }) {
  const { token } = await searchParams;
  if (typeof token !== "string" || !(await setupTokenValid(token))) {
    return (
      <div className="panel auth-form">
        <h1>Set-up link not valid</h1>
        <p className="muted">
          It was used already, has expired, or an account exists. <a href="/login">Sign in</a>, or restart Omen with no account for a new link (or set
          OMEN_ADMIN_PASSWORD).
        </p>
      </div>
    );
  }
  return <SetupForm token={token} />;
}
