import "server-only";
import { errorReply, toResponse } from "./reply";

/** JSON error body shared by every plain HTTP route: `{ error, details? }`. */
export function errorResponse(e: unknown, headers: Record<string, string> = {}): Response {
  return toResponse(errorReply(e, headers));
}
