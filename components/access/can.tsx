"use client";
import type { ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { roleAtLeast, type TRole } from "@/lib/auth/roles";

/**
 * Whether the signed-in user (or token) has at least `role`. False until `access.me` answers, so
 * a viewer never sees a control flash up; the server checks every call anyway (server/api/trpc.ts),
 * this only keeps buttons that would answer 403 off a viewer's screen.
 */
export function useCan(role: TRole): boolean {
  const trpc = useTRPC();
  const me = useQuery(trpc.access.me.queryOptions(undefined, { staleTime: 60_000 }));
  const have = me.data?.role;
  return have !== undefined && roleAtLeast(have, role);
}

/** Renders `children` only for `role` and above; `otherwise` (e.g. a short note) for the rest. */
export function Can({ role, children, otherwise = null }: { role: TRole; children: ReactNode; otherwise?: ReactNode }) {
  return <>{useCan(role) ? children : otherwise}</>;
}
