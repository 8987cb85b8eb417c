import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // libp2p 3 needs Promise.withResolvers, which Node 20 lacks: load the polyfill first.
    setupFiles: ['./packages/core/dist/polyfill.js'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: multi-process tests fight for CPU when too many files run at once.
    maxWorkers: 2,
    retry: 0,
    // The default output, then one plain closing line: "N passed, N failed, N skipped".
    reporters: ['default', './scripts/summary-reporter.mjs']
  }
})
