import { isAppError } from "@/lib/errors/app-error";
import { outboundFetch } from "../outbound/outbound-fetch";

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
    const res = await outboundFetch(url, {
      method: "POST",
      headers: { "user-agent": "omen-alerts/1", ...headers, "content-type": "application/json" },
      body: JSON.stringify(body),
      timeoutMs,
    });
    const text = await res.text().catch(() => "");
    if (res.ok) return { ok: true, httpStatus: res.status, error: null, elapsedMs: elapsed() };
    const snippet = text.replace(/\s+/g, " ").trim().slice(0, 300);
    return { ok: false, httpStatus: res.status, error: `HTTP ${res.status}${snippet ? `: ${snippet}` : ""}`, elapsedMs: elapsed() };
  } catch (e) {
    // outboundFetch's message: "could not reach" for every network failure (no port states), or the allow-list/redirect refusal
    const msg = isAppError(e) ? e.message : "Could not reach the receiver.";
    return { ok: false, httpStatus: null, error: msg, elapsedMs: elapsed() };
  }
}
