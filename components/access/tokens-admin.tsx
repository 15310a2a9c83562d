"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { SCOPES, type TScope } from "@/lib/auth/roles";
import { useTRPC } from "@/components/trpc/client";
import { formatTime } from "@/components/anomalies/anomaly-format";
import { Breadcrumbs } from "@/components/ui/breadcrumbs";

const SCOPE_HELP: Record<TScope, string> = {
  ingest: "send data: remote_write, OTLP, CSV import",
  read: "read API, /metrics, tRPC queries",
  admin: "everything an admin can do",
};

/** A secret is shown once, right after creation or rotation; only its hash is kept. */
function SecretOnce({ name, secret, onDone }: { name: string; secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="secret-once" role="status" data-testid="new-token">
      <p>
        Token <strong>{name}</strong>: copy it now, it will not be shown again.
      </p>
      <div className="row">
        <code data-testid="new-token-secret">{secret}</code>
        <button type="button" onClick={() => void navigator.clipboard?.writeText(secret).then(() => setCopied(true))}>
          {copied ? "Copied" : "Copy"}
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

export function TokensAdmin() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const tokens = useQuery(trpc.access.tokens.queryOptions());
  const [shown, setShown] = useState<{ name: string; secret: string } | null>(null);
  const invalidate = () => qc.invalidateQueries({ queryKey: trpc.access.tokens.queryKey() });
  const rotate = useMutation(
    trpc.access.rotateToken.mutationOptions({
      onSuccess: (r) => {
        setShown({ name: r.token.name, secret: r.secret });
        void invalidate();
      },
    }),
  );
  const revoke = useMutation(trpc.access.revokeToken.mutationOptions({ onSuccess: invalidate }));
  const failure = rotate.error ?? revoke.error;
  return (
    <div>
      <Breadcrumbs trail={[{ label: "Settings", href: "/settings" }, { label: "API tokens" }]} />
      <h1>API tokens</h1>
      <p className="muted">
        For senders and scripts: <code>Authorization: Bearer &lt;token&gt;</code>. Scopes: {SCOPES.map((s) => `${s}: ${SCOPE_HELP[s]}`).join("; ")}. Omen keeps
        only a hash of each token.
      </p>
      <CreateToken
        onCreated={(name, secret) => {
          setShown({ name, secret });
          void invalidate();
        }}
      />
      {shown && <SecretOnce {...shown} onDone={() => setShown(null)} />}
      {failure && (
        <p className="error" role="alert">
          {failure.message}
        </p>
      )}
      <table data-testid="tokens" style={{ marginTop: 12 }}>
        <thead>
          <tr>
            <th>Name</th>
            <th>Token</th>
            <th>Scopes</th>
            <th>Created</th>
            <th>Last used</th>
            <th>Status</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {tokens.data?.length === 0 && (
            <tr>
              <td colSpan={7} className="muted">
                No tokens yet.
              </td>
            </tr>
          )}
          {tokens.data?.map((t) => (
            <tr key={t.id}>
              <td>{t.name}</td>
              <td className="mono">{t.prefix}…</td>
              <td>{t.scopes.join(", ")}</td>
              <td className="muted">
                {formatTime(t.createdAtMs)} by {t.createdBy}
              </td>
              <td className="muted">{t.lastUsedAtMs ? formatTime(t.lastUsedAtMs) : "never"}</td>
              <td>{t.revokedAtMs ? <span className="muted">revoked {formatTime(t.revokedAtMs)}</span> : <span className="badge ok">active</span>}</td>
              <td>
                <div className="row" style={{ gap: 6 }}>
                {!t.revokedAtMs && (
                  <>
                    <button
                      type="button"
                      onClick={() => {
                        if (window.confirm(`Rotate "${t.name}"? The current secret stops working at once.`)) rotate.mutate({ id: t.id });
                      }}
                    >
                      Rotate
                    </button>
                    <button
                      type="button"
                      onClick={() => {
                        if (window.confirm(`Revoke "${t.name}"? Senders using it are refused from now on.`)) revoke.mutate({ id: t.id });
                      }}
                    >
                      Revoke
                    </button>
                  </>
                )}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {tokens.isError && <p className="error">Could not load tokens: {tokens.error.message}</p>}
    </div>
  );
}

function CreateToken({ onCreated }: { onCreated: (name: string, secret: string) => void }) {
  const trpc = useTRPC();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<TScope[]>(["ingest"]);
  const create = useMutation(
    trpc.access.createToken.mutationOptions({
      onSuccess: (r) => {
        setName("");
        onCreated(r.token.name, r.secret);
      },
    }),
  );
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate({ name, scopes });
  }
  return (
    <section className="panel" aria-labelledby="create-token">
      <h2 id="create-token">Create a token</h2>
      <form className="row" onSubmit={submit}>
        <input type="text" aria-label="Token name" placeholder="name, e.g. prometheus-prod" required maxLength={80} value={name} onChange={(e) => setName(e.target.value)} />
        {SCOPES.map((s) => (
          <label key={s} className="row" style={{ gap: 4 }}>
            <input
              type="checkbox"
              checked={scopes.includes(s)}
              onChange={(e) => setScopes((cur) => (e.target.checked ? [...cur, s] : cur.filter((x) => x !== s)))}
            />
            {s}
          </label>
        ))}
        <button type="submit" className="primary" disabled={create.isPending || scopes.length === 0}>
          Create token
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
