import { auth } from "@/server/services/auth/auth";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** better-auth's endpoints: /api/auth/sign-in/username, /sign-out, /get-session, … */
export function GET(req: Request): Promise<Response> {
  return auth().handler(req);
}
export function POST(req: Request): Promise<Response> {
  return auth().handler(req);
}
