/**
 * Module state that must exist once per process. The web process loads some server modules
 * twice: Next's bundled copy (pages, tRPC, the app/ route handlers) and the custom web server's
 * own copy (server/web, loaded by tsx). State created here lives under a global symbol, so both
 * copies share the one instance, whichever copy happens to create it.
 */
export function processGlobal<T>(name: string, create: () => T): T {
  const g = globalThis as unknown as Record<symbol, unknown>;
  const key = Symbol.for(`omen.${name}`);
  if (!(key in g)) g[key] = create();
  return g[key] as T;
}
