/** @type {import("next").NextConfig} */
const nextConfig = {
  // pg, pglite and prisma's runtime load native-ish modules / wasm at run time: keep them external.
  serverExternalPackages: ["pg", "pg-copy-streams", "@electric-sql/pglite", "@electric-sql/pglite-socket", "@prisma/adapter-pg"],
  poweredByHeader: false,
  // The build type-checks what it builds (tsconfig.build.json: the app without tests, benchmarks
  // and tools); `npm test` type-checks the whole repository.
  typescript: { tsconfigPath: "tsconfig.build.json" },
  typedRoutes: false,
};

export default nextConfig;
