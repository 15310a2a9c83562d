"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { ROLES, type TRole } from "@/lib/auth/roles";
import { useTRPC } from "@/components/trpc/client";
import { formatTime } from "@/components/anomalies/anomaly-format";
import { Breadcrumbs } from "@/components/ui/breadcrumbs";

const ROLE_HELP: Record<TRole, string> = {
  viewer: "reads everything",
  operator: "also triages, labels and tunes thresholds",
  admin: "also manages sources, alert channels, API tokens and users",
};

export function UsersAdmin() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const users = useQuery(trpc.access.users.queryOptions());
  const me = useQuery(trpc.access.me.queryOptions());
  const invalidate = () => qc.invalidateQueries({ queryKey: trpc.access.users.queryKey() });
  const setRole = useMutation(trpc.access.setRole.mutationOptions({ onSuccess: invalidate }));
  const remove = useMutation(trpc.access.removeUser.mutationOptions({ onSuccess: invalidate }));
  const reset = useMutation(trpc.access.resetPassword.mutationOptions());
  const failure = setRole.error ?? remove.error ?? reset.error;
  return (
    <div>
      <Breadcrumbs trail={[{ label: "Settings", href: "/settings" }, { label: "Users" }]} />
      <h1>Users</h1>
      <p className="muted">
        Roles: {ROLES.map((r) => `${r} ${ROLE_HELP[r]}`).join("; ")}.
      </p>
      {failure && (
        <p className="error" role="alert">
          {failure.message}
        </p>
      )}
      {reset.isSuccess && <p role="status">Password changed; that user was signed out everywhere.</p>}
      <table data-testid="users">
        <thead>
          <tr>
            <th>User</th>
            <th>Role</th>
            <th>Last active</th>
            <th>Created</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {users.data?.map((u) => (
            <tr key={u.id}>
              <td>
                {u.username}
                {me.data?.username === u.username && <span className="muted"> (you)</span>}
              </td>
              <td>
                <select aria-label={`Role of ${u.username}`} value={u.role} onChange={(e) => setRole.mutate({ id: u.id, role: e.target.value as TRole })}>
                  {ROLES.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
              </td>
              <td className="muted">{u.lastSeenAtMs ? formatTime(u.lastSeenAtMs) : "never"}</td>
              <td className="muted">{formatTime(u.createdAtMs)}</td>
              <td>
                <div className="row" style={{ gap: 6 }}>
                <button
                  type="button"
                  onClick={() => {
                    const password = window.prompt(`New password for ${u.username} (at least 8 characters)`);
                    if (password) reset.mutate({ id: u.id, password });
                  }}
                >
                  Reset password
                </button>
                {me.data?.username !== u.username && (
                  <button
                    type="button"
                    onClick={() => {
                      if (window.confirm(`Remove ${u.username}? Their sessions end at once.`)) remove.mutate({ id: u.id });
                    }}
                  >
                    Remove
                  </button>
                )}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {users.isError && <p className="error">Could not load users: {users.error.message}</p>}
      <AddUser onAdded={invalidate} />
    </div>
  );
}

function AddUser({ onAdded }: { onAdded: () => void }) {
  const trpc = useTRPC();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<TRole>("viewer");
  const create = useMutation(
    trpc.access.createUser.mutationOptions({
      onSuccess: () => {
        setUsername("");
        setPassword("");
        onAdded();
      },
    }),
  );
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate({ username, password, role });
  }
  return (
    <section className="panel" style={{ marginTop: 14 }} aria-labelledby="add-user">
      <h2 id="add-user">Add a user</h2>
      <form className="row" onSubmit={submit}>
        <input type="text" aria-label="New user name" placeholder="user name" required value={username} onChange={(e) => setUsername(e.target.value)} />
        <input
          type="password"
          aria-label="New user password"
          placeholder="password (8+ characters)"
          autoComplete="new-password"
          required
          minLength={8}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <select aria-label="New user role" value={role} onChange={(e) => setRole(e.target.value as TRole)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
        <button type="submit" className="primary" disabled={create.isPending}>
          Add user
        </button>
      </form>
      {create.error && (
        <p className="error" role="alert">
          {create.error.message}
        </p>
      )}
    </section>
  );
}
