"use client";
import { useEffect, useState, type FormEvent } from "react";

/** The one-time set-up link's form: creates the first admin, then signs in. */
export function SetupForm({ token }: { token: string }) {
  const [username, setUsername] = useState("admin");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [valid, setValid] = useState<boolean | null>(null);
  useEffect(() => {
    fetch(`/api/auth/setup?token=${encodeURIComponent(token)}`)
      .then((r) => r.json() as Promise<{ valid?: boolean }>)
      .then((b) => setValid(b.valid === true), () => setValid(false));
  }, [token]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await fetch("/api/auth/setup", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token, username, password }),
      });
      const body = (await res.json().catch(() => ({}))) as { error?: string };
      if (!res.ok) {
        setError(body.error ?? `HTTP ${res.status}`);
        return;
      }
      const signIn = await fetch("/api/auth/sign-in/username", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password }),
      });
      window.location.assign(signIn.ok ? "/" : "/login");
    } finally {
      setBusy(false);
    }
  }

  if (valid === null) return <p className="muted auth-form">Checking the set-up link…</p>;
  if (!valid) {
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
  return (
    <form className="panel auth-form" onSubmit={(e) => void submit(e)} aria-labelledby="setup-title">
      <h1 id="setup-title">Create the first admin</h1>
      <p className="muted small">This link works once. The admin then adds other users on Settings → Users.</p>
      <label>
        User name
        <input type="text" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />
      </label>
      <label>
        Password (at least 8 characters)
        <input type="password" autoComplete="new-password" required minLength={8} value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy}>
        Create admin and sign in
      </button>
    </form>
  );
}
