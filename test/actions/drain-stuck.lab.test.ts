/**
 * A live migration stuck past the cloud's migrationTimeout is aborted through the API and reported,
 * on the real Nova: c01's nova-compute runs Nova's own fake.FakeLiveMigrateDriver for this test
 * (its live migrations last 5 s unless aborted; lab/bin/lab-nova-compute's override file), the bot
 * has a 2 s timeout. Nova then shows the migration cancelled and the server still ACTIVE on c01;
 * the drain stops there (the plan said so), c01 stays disabled, and the thread names the abort.
 */
import { execa } from 'execa';
import { rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { os, osJson, PAIR, requireLab, sshHost, uniquePrefix, waitFor } from '../lab/lab-helpers.js';
import { holdLabHost, runApprovedOnLab, startLabBot, type LabBot } from './lab-bot.js';

const REPO = new URL('../../', import.meta.url).pathname;
// c01 → c02, or c04 → c05 in the lane beside (LAB_PAIR; test/lab/lab-helpers.ts)
const { a: A, b: B } = PAIR;
const OVERRIDE = `/etc/nova/nova-${A}.override.conf`;
type Row = Record<string, string>;

/** Restarts c01's nova-compute and waits until Nova sees it up again (a fresh report). */
async function restartSource(): Promise<void> {
  const since = Date.now();
  const r = await sshHost(A, 'lab-nova-compute restart');
  if (r.exitCode !== 0) throw new Error(`restarting ${A}'s nova-compute failed: ${r.stderr}`);
  await waitFor(
    `${A}'s nova-compute reporting again`,
    async () => {
      const svc = (await osJson<Row[]>(['compute', 'service', 'list', '--host', A, '--service', 'nova-compute']))[0];
      return svc?.['State'] === 'up' && Date.parse(`${svc['Updated At']}Z`) > since;
    },
    { timeoutMs: 120_000, intervalMs: 2000 },
  );
}

/** Two plain servers on c01 (no port, no volume), named `prefix`-*. */
async function seedTwo(prefix: string): Promise<void> {
  const seeded = await execa('bash', [`${REPO}lab/seed`, '--servers', '2', '--net-servers', '0', '--no-volume', '--prefix', prefix, '--host', A], {
    reject: false,
    timeout: 600_000,
  });
  if (seeded.exitCode !== 0) throw new Error(`lab/seed failed: ${seeded.stderr.slice(-800)}`);
}

describe('a stuck live migration', () => {
  let lab: LabBot | undefined;
  let prefix = '';
  let lock: { release(): void } | undefined;

  beforeAll(async () => {
    await requireLab();
    lock = await holdLabHost(A);
    prefix = uniquePrefix('stuck').replace(/-$/, '');
    writeFileSync(OVERRIDE, '[DEFAULT]\n# drain-stuck.lab.test.ts: live migrations last 5 s unless aborted\ncompute_driver = fake.FakeLiveMigrateDriver\n');
    await os(['compute', 'service', 'set', '--enable', A, 'nova-compute']);
    await restartSource();
    // Seeded after the restart, so the driver that will migrate them is the one that built them.
    await seedTwo(prefix);
    lab = await startLabBot({ transport: 'http', backend: 'rest', migrationTimeout: '2s' });
  }, 900_000);

  afterAll(async () => {
    await lab?.close();
    if (prefix) await execa('bash', [`${REPO}lab/reset`, '--prefix', prefix], { reject: false, timeout: 600_000 });
    rmSync(OVERRIDE, { force: true });
    await restartSource();
    await os(['compute', 'service', 'set', '--enable', A, 'nova-compute']);
    lock?.release();
  }, 900_000);

  it('is aborted through the API after the timeout; Nova shows it cancelled, the drain stops and says so', async () => {
    const run = await runApprovedOnLab(lab!, `drain ${A} reason=stuck-test to=${B} stop-service=no`, 600_000);
    expect(run.card.text, run.story()).toMatch(/failed/);
    expect(run.story()).toMatch(/aborted through the API/);

    const mine = (await osJson<Row[]>(['server', 'list', '--all-projects', '--name', `^${prefix}-`, '--long'])).filter((s) =>
      s['Name']!.startsWith(`${prefix}-`),
    );
    expect(mine).toHaveLength(2);
    // The first server's migration was cancelled by the abort and it stayed on c01, running.
    const first = mine.sort((a, b) => a['Name']!.localeCompare(b['Name']!))[0]!;
    const migrations = await waitFor(
      'the aborted migration to end',
      async () => {
        const m = await osJson<Row[]>(['server', 'migration', 'list', '--server', first['ID']!]);
        return m.length === 1 && m[0]!['Status'] === 'cancelled' ? m : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 2000 },
    );
    expect(migrations[0]!['Type'] ?? migrations[0]!['Migration Type']).toMatch(/live/i);
    const after = await waitFor(
      'the server to settle',
      async () => {
        const s = await osJson<Row>(['server', 'show', first['ID']!]);
        return s['OS-EXT-STS:task_state'] === null || s['OS-EXT-STS:task_state'] === 'None' ? s : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 2000 },
    );
    expect([after['status'], after['OS-EXT-SRV-ATTR:host']]).toEqual(['ACTIVE', A]);
    // The drain stopped at that step: the second server was not touched, c01 stays disabled.
    const second = mine[1]!;
    expect(await osJson<Row[]>(['server', 'migration', 'list', '--server', second['ID']!])).toEqual([]);
    const svc = (await osJson<Row[]>(['compute', 'service', 'list', '--host', A, '--service', 'nova-compute', '--long']))[0]!;
    expect([svc['Status'], svc['Disabled Reason']]).toEqual(['disabled', 'stuck-test']);
  }, 1_200_000);
});

/**
 * A migration Nova refuses is reported with Nova's reason (runbook.md §1): the destination c02 is
 * disabled, so Nova's scheduler refuses each live migration to it (NoValidHost, recorded on the
 * instance action). The bot retries that refusal twice (often transient), then stops the drain with
 * Nova's words in the thread; the second server is not touched and c01 stays disabled.
 */
describe('a migration Nova refuses', () => {
  let lab: LabBot | undefined;
  let prefix = '';
  let lock: { release(): void } | undefined;

  beforeAll(async () => {
    await requireLab();
    lock = await holdLabHost(A);
    prefix = uniquePrefix('refused').replace(/-$/, '');
    await os(['compute', 'service', 'set', '--enable', A, 'nova-compute']);
    await seedTwo(prefix);
    await os(['compute', 'service', 'set', '--disable', '--disable-reason', 'drain-stuck.lab.test: refuse migrations', B, 'nova-compute']);
    lab = await startLabBot({ transport: 'http', backend: 'rest' });
  }, 900_000);

  afterAll(async () => {
    await lab?.close();
    await os(['compute', 'service', 'set', '--enable', B, 'nova-compute']);
    await os(['compute', 'service', 'set', '--enable', A, 'nova-compute']);
    if (prefix) await execa('bash', [`${REPO}lab/reset`, '--prefix', prefix], { reject: false, timeout: 600_000 });
    lock?.release();
  }, 900_000);

  it("stops the drain and names Nova's reason in the thread", async () => {
    const run = await runApprovedOnLab(lab!, `drain ${A} reason=refused-test to=${B} stop-service=no`, 600_000);
    expect(run.card.text, run.story()).toMatch(/failed/);
    const story = run.story();
    expect(story).toMatch(
      new RegExp(
        `failed 3 times: Nova says migration \\d+ is error \\(conductor_live_migrate_instance on controller failed: No valid host was found\\.\\); the instance is still on ${A} \\(ACTIVE\\)`,
      ),
    );

    const mine = (await osJson<Row[]>(['server', 'list', '--all-projects', '--name', `^${prefix}-`, '--long']))
      .filter((s) => s['Name']!.startsWith(`${prefix}-`))
      .sort((a, b) => a['Name']!.localeCompare(b['Name']!));
    expect(mine.map((s) => [s['Status'], s['Host']])).toEqual([
      ['ACTIVE', A],
      ['ACTIVE', A],
    ]);
    // three refused attempts for the first, none for the second
    expect((await osJson<Row[]>(['server', 'migration', 'list', '--server', mine[0]!['ID']!])).map((m) => m['Status'])).toEqual(['error', 'error', 'error']);
    expect(await osJson<Row[]>(['server', 'migration', 'list', '--server', mine[1]!['ID']!])).toEqual([]);
    const svc = (await osJson<Row[]>(['compute', 'service', 'list', '--host', A, '--service', 'nova-compute', '--long']))[0]!;
    expect([svc['Status'], svc['Disabled Reason']]).toEqual(['disabled', 'refused-test']);
  }, 1_200_000);
});
