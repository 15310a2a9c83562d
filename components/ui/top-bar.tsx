"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";

const LINKS = [
  { href: "/", label: "Overview" },
  { href: "/anomalies", label: "Anomalies" },
  { href: "/alerts", label: "Alerts" },
  { href: "/settings", label: "Settings" },
];

export function TopBar() {
  const pathname = usePathname();
  const trpc = useTRPC();
  const health = useQuery(trpc.system.health.queryOptions(undefined, { refetchInterval: 10_000 }));
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
    </header>
  );
}
