import { defineConfig } from 'vitest/config';

// Two projects so the fast set runs alone (`npm run test:unit`); `npm test` runs both.
// Integration tests start real gpsd, brokers, child daemons and Chromium, so they get
// longer timeouts and run one file at a time per worker.
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.{ts,tsx}'], testTimeout: 20_000 },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.{ts,tsx}', 'test/e2e/**/*.test.{ts,tsx}'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
