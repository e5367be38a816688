import { defineConfig } from 'vitest/config';

// Three projects, one command (`npm test` runs them all), and one rule for which a test belongs to:
// the file's suffix alone, wherever it lives.
//  - `*.lab.test.ts` → lab: the real OpenStack lab (lab/up); one file at a time, since they share one cloud;
//  - `*.int.test.ts` → integration: real MariaDB, real OpenSSH, child processes (the bot against the Slack stand-in);
//  - any other `*.test.ts` → unit: pure code, no services.
// The lab project runs after the other two (sequence.groupOrder), not beside them: on two cores the
// unit and integration workers starved Nova's services and the bots polling them, and the whole run
// took ~32 min against ~25 min one after the other (lab alone 18 min, the rest 7 min).
export default defineConfig({
  test: {
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.int.test.ts', 'test/**/*.lab.test.ts', 'node_modules/**'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'lab',
          sequence: { groupOrder: 1 },
          // sweeps what a killed earlier run left on the shared cloud (LAB_NO_RESET=1 skips it)
          globalSetup: ['test/lab/global-setup.ts'],
          include: ['test/**/*.lab.test.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
