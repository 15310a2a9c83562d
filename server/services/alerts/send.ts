/** Result of one HTTP delivery attempt; never throws. */
export interface SendResult {
  ok: boolean;
  httpStatus: number | null;
  error: string | null;
  elapsedMs: number;
}

export const SEND_TIMEOUT_MS = 5_000;

/** POSTs JSON with a timeout; 2xx is success, anything else (status, network, timeout) an error text. */
export async function postJson(url: string, body: unknown, headers: Record<string, string>, timeoutMs = SEND_TIMEOUT_MS): Promise<SendResult> {
  const t0 = performance.now();
  const elapsed = () => Math.round(performance.now() - t0);
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "user-agent": "omen-alerts/1", ...headers, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
    });
    const text = await res.text().catch(() => "");
    if (res.ok) return { ok: true, httpStatus: res.status, error: null, elapsedMs: elapsed() };
    const snippet = text.replace(/\s+/g, " ").trim().slice(0, 300);
    return { ok: false, httpStatus: res.status, error: `HTTP ${res.status}${snippet ? `: ${snippet}` : ""}`, elapsedMs: elapsed() };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const msg =
      err.name === "TimeoutError" || err.name === "AbortError"
        ? `timed out after ${timeoutMs} ms`
        : `${err.message}${err.cause?.code ? ` (${err.cause.code})` : err.cause?.message ? ` (${err.cause.message})` : ""}`;
    return { ok: false, httpStatus: null, error: msg, elapsedMs: elapsed() };
  }
}
