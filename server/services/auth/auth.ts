import { hash, verify } from "@node-rs/argon2";
import { betterAuth } from "better-auth";
import { USERNAME_RE } from "@/lib/auth/roles";
import { username } from "better-auth/plugins";
import { authDatabase } from "../../repos/auth-store";
import { env } from "../../env";
import { CLIENT_IP_HEADER } from "./auth-constants";
import { authSecret } from "./auth-secret";
import { trustedOriginList } from "./request-guard";

/**
 * Accounts and sessions (better-auth): sign-in with user name and password (argon2id), sessions
 * in the database (auth_session) behind an HttpOnly, SameSite=Lax cookie that is Secure when
 * OMEN_PUBLIC_URL is https. Public sign-up is off: admins create accounts (users-service.ts).
 * Sign-in attempts are rate-limited per client address (the web server sets x-omen-client-ip
 * from the socket, replacing anything a client sent).
 */
export const SESSION_DAYS = 7;
/** Sign-in attempts allowed per client address per minute. */
export const SIGN_IN_PER_MINUTE = 10;

function createAuth() {
  const e = env();
  const baseURL = e.OMEN_PUBLIC_URL ?? `http://${e.HOST === "0.0.0.0" || e.HOST === "::" ? "127.0.0.1" : e.HOST}:${e.PORT}`;
  return betterAuth({
    appName: "Omen",
    baseURL,
    basePath: "/api/auth",
    secret: authSecret(e.dataDir, e.OMEN_AUTH_SECRET),
    database: authDatabase(),
    trustedOrigins: trustedOriginList(),
    telemetry: { enabled: false },
    emailAndPassword: {
      enabled: true,
      disableSignUp: true,
      minPasswordLength: 8,
      maxPasswordLength: 200,
      password: {
        hash: (password) => hash(password),
        verify: ({ hash: stored, password }) => verify(stored, password),
      },
    },
    plugins: [username({ minUsernameLength: 2, maxUsernameLength: 40, usernameValidator: (name) => USERNAME_RE.test(name), schema: { user: { fields: { displayUsername: "display_username" } } } })],
    user: {
      modelName: "auth_user",
      fields: { emailVerified: "email_verified", createdAt: "created_at", updatedAt: "updated_at" },
      additionalFields: { role: { type: "string", required: false, defaultValue: "viewer", input: false } },
    },
    session: {
      modelName: "auth_session",
      fields: { userId: "user_id", expiresAt: "expires_at", ipAddress: "ip_address", userAgent: "user_agent", createdAt: "created_at", updatedAt: "updated_at" },
      expiresIn: SESSION_DAYS * 24 * 3600,
      updateAge: 24 * 3600,
    },
    account: {
      modelName: "auth_account",
      fields: {
        accountId: "account_id",
        providerId: "provider_id",
        userId: "user_id",
        accessToken: "access_token",
        refreshToken: "refresh_token",
        idToken: "id_token",
        accessTokenExpiresAt: "access_token_expires_at",
        refreshTokenExpiresAt: "refresh_token_expires_at",
        createdAt: "created_at",
        updatedAt: "updated_at",
      },
    },
    verification: {
      modelName: "auth_verification",
      fields: { expiresAt: "expires_at", createdAt: "created_at", updatedAt: "updated_at" },
    },
    rateLimit: {
      enabled: true,
      window: 60,
      max: 600,
      storage: "memory",
      customRules: { "/sign-in/*": { window: 60, max: SIGN_IN_PER_MINUTE } },
    },
    advanced: {
      useSecureCookies: baseURL.startsWith("https://"),
      cookiePrefix: "omen",
      defaultCookieAttributes: { httpOnly: true, sameSite: "lax" },
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
    },
  });
}

type Auth = ReturnType<typeof createAuth>;
const g = globalThis as typeof globalThis & { __omenAuth?: Auth };

/** The process's better-auth instance (created on first use: it needs the database pool). */
export function auth(): Auth {
  g.__omenAuth ??= createAuth();
  return g.__omenAuth;
}
