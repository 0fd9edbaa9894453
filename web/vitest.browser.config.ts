import { defineConfig } from 'vitest/config';

// Browser tests: Debian's Chromium driven by playwright-core against confer-local on port 0.
// One file at a time, each test in order: they share one server and one browser per file.
export default defineConfig({
  test: {
    include: ['tests/browser/**/*.test.ts'],
    environment: 'node',
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 90_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Node 20's WebSocket client (a second participant speaking the protocol directly).
    poolOptions: { forks: { execArgv: ['--experimental-websocket'], singleFork: true } },
  },
});
