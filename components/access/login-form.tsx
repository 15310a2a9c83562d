"use client";
import { useState, type FormEvent } from "react";

/** Only same-site paths: `next` comes from the URL, so an absolute or protocol-relative one is ignored. */
export function safeNextPath(next: string | null | undefined): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}

export function LoginForm({ next }: { next?: string }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await fetch("/api/auth/sign-in/username", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password }),
      });
      if (res.ok) {
        // a full load: every query and the top bar start again as the signed-in user
        window.location.assign(safeNextPath(next));
        return;
      }
      if (res.status === 429) {
        const wait = res.headers.get("x-retry-after");
        setError(`Too many sign-in attempts from here. Try again in ${wait ?? "a"} seconds.`);
      } else if (res.status === 401) setError("Wrong user name or password.");
      else setError(`Could not sign in (HTTP ${res.status}).`);
    } catch {
      setError("Omen could not be reached.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="panel auth-form" onSubmit={(e) => void submit(e)} aria-labelledby="login-title">
      <h1 id="login-title">Sign in to Omen</h1>
      <label>
        User name
        <input type="text" name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />
      </label>
      <label>
        Password
        <input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
      <p className="muted small">No account? Ask an Omen admin to create one on Settings → Users.</p>
    </form>
  );
}
