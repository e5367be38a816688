import { defineConfig } from 'vitest/config';

// One command (`npm test` runs them all), and one rule for which kind of project a test belongs to:
// the file's suffix alone, wherever it lives.
//  - `*.lab.test.ts` → the lab lanes: the real OpenStack lab (lab/up), by the hosts a file touches;
//  - `*.int.test.ts` → integration: real MariaDB, real OpenSSH, child processes (the bot against the Slack stand-in);
//  - any other `*.test.ts` → unit: pure code, no services.
// The lab runs after the other two (sequence.groupOrder), not beside them: on two cores the
// unit and integration workers starved Nova's services and the bots polling them, and the whole run
// took ~32 min against ~25 min one after the other (lab alone 18 min, the rest 7 min).
const LAB_RESET = 'test/lab/lab-reset.lab.test.ts';
const LAB_C03 = ['test/lab/c03.lab.test.ts', 'test/**/inspect*.lab.test.ts'];
// Files that touch no compute host (Neutron only, or reads): beside the c01/c02 lane, which is CI's
// critical path. ip.lab.test.ts boots a server on c02: it stays in the c01/c02 lane.
const LAB_NEUTRON = [
  'test/**/ip-recover-crash.lab.test.ts',
  'test/lab/ports.lab.test.ts',
  'test/adapters/openstack/request-budget.lab.test.ts',
  'test/lab/pairs.lab.test.ts',
];
// Files that run on the second pair of fake-driver hosts, c04/c05 (LAB_PAIR; test/lab/lab-helpers.ts),
// beside the c01/c02 lane: long ones that take their hosts from PAIR, enough of them that neither
// lane waits for the other. A Placement trait keeps the pairs apart (lab/lib/pairs.py), so what Nova
// schedules for one never lands on the other. No more than three lanes at once on two cores (test/run).
const LAB_C04C05 = [
  'test/adapters/openstack/cloud.lab.test.ts',
  'test/e2e/drain.lab.test.ts',
  'test/actions/drain-stuck.lab.test.ts',
  'test/actions/drain-crash.lab.test.ts',
  'test/actions/evacuate-crash.lab.test.ts',
  'test/jobs/scheduled-drain.lab.test.ts',
];

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
      // The lab runs in lanes by the hosts a file touches, after the sweep of what a killed run left
      // (lab-reset: test/lab/lab-reset.lab.test.ts). Inside a lane, one file at a time: they share its
      // hosts. `npm test` (test/run) runs the lanes side by side, one vitest process each: one vitest
      // run cannot (projects of one group share one worker pool, so a lane's files would run beside
      // each other). A plain `vitest run` still runs everything, lanes one after the other (groupOrder).
      {
        test: {
          name: 'lab-reset',
          sequence: { groupOrder: 1 },
          include: [LAB_RESET],
          testTimeout: 600_000,
        },
      },
      // c01/c02 (drains, evacuations, crash tests): the first pair of fake-driver computes
      {
        test: {
          name: 'lab',
          sequence: { groupOrder: 2 },
          include: ['test/**/*.lab.test.ts'],
          exclude: [LAB_RESET, ...LAB_C03, ...LAB_NEUTRON, ...LAB_C04C05, 'node_modules/**'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
      // c04/c05: the second pair of fake-driver computes
      {
        test: {
          name: 'lab-c04c05',
          sequence: { groupOrder: 2 },
          include: LAB_C04C05,
          env: { LAB_PAIR: 'c04,c05' },
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
      // c03 (libvirt, real QEMU guests): /instance inspect; its own availability zone
      {
        test: {
          name: 'lab-c03',
          sequence: { groupOrder: 2 },
          include: LAB_C03,
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
      // Neutron only (/ip): ports and addresses on Public_AGILE
      {
        test: {
          name: 'lab-neutron',
          sequence: { groupOrder: 2 },
          include: LAB_NEUTRON,
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
