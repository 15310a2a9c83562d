import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // pg, pglite and prisma's runtime load native-ish modules / wasm at run time: keep them external.
  serverExternalPackages: ["pg", "pg-copy-streams", "@electric-sql/pglite", "@electric-sql/pglite-socket", "@prisma/adapter-pg"],
  poweredByHeader: false,
  typedRoutes: false,
};

export default nextConfig;
