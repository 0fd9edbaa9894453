import { defineConfig } from 'vitest/config';

// Unit tests of the client's own logic (no browser, no server).
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
