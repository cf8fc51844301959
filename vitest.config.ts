import { defineConfig } from "vitest/config";

// Tests import the packages' TypeScript sources through the "@chainrule/source" export condition,
// so they need no build; the examples' runner tests use the built dist/ (pnpm test builds first).
export default defineConfig({
  resolve: { conditions: ["@chainrule/source"] },
  ssr: { resolve: { conditions: ["@chainrule/source"] } },
  test: {
    include: ["packages/*/{src,test}/**/*.test.ts"],
    globalSetup: ["./vitest.setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
