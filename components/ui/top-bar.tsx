"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";

const LINKS = [
  { href: "/", label: "Overview" },
  { href: "/incidents", label: "Incidents" },
  { href: "/anomalies", label: "Anomalies" },
  { href: "/alerts", label: "Alerts" },
  { href: "/settings", label: "Settings" },
];

/** Pages shown before signing in: no navigation, and no queries (they would answer 401). */
const SIGNED_OUT_PAGES = ["/login", "/setup"];

export function TopBar() {
  const pathname = usePathname();
  if (SIGNED_OUT_PAGES.includes(pathname)) {
    return (
      <header className="topbar">
        <span className="brand">Omen</span>
      </header>
    );
  }
  return <SignedInBar pathname={pathname} />;
}

async function signOut(): Promise<void> {
  await fetch("/api/auth/sign-out", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }).catch(() => undefined);
  window.location.assign("/login");
}

function SignedInBar({ pathname }: { pathname: string }) {
  const trpc = useTRPC();
  const health = useQuery(trpc.system.health.queryOptions(undefined, { refetchInterval: 10_000 }));
  const me = useQuery(trpc.access.me.queryOptions(undefined, { staleTime: 60_000 }));
  const worker = health.data?.workers.find((w) => w.alive);
  return (
    <header className="topbar">
      <Link href="/" className="brand">
        Omen
      </Link>
      <nav aria-label="Main">
        {LINKS.map((l) => {
          const active = l.href === "/" ? pathname === "/" : pathname.startsWith(l.href);
          return (
            <Link key={l.href} href={l.href} aria-current={active ? "page" : undefined}>
              {l.label}
            </Link>
          );
        })}
      </nav>
      <span className="status" role="status">
        {health.isError
          ? "server unreachable"
          : !health.data
            ? "…"
            : `${health.data.streams} streams · worker ${worker ? "running" : "not running"} · db ${health.data.database.ok ? "ok" : "down"}`}
      </span>
      {me.data && (
        <span className="user" data-testid="signed-in-user">
          <span>
            {me.data.username} <span className="muted">({me.data.role})</span>
          </span>
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </span>
      )}
    </header>
  );
}
