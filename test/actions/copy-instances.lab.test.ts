/**
 * `/node copy-instances c01 c02` on the real lab through the Slack stand-in: the lab's fake-driver
 * computes have their own instances_path (/var/lib/nova/instances-c01, -c02, from nova-c0N.conf);
 * the test makes a tree there under its own names (`_base/<prefix>…` files, two instance
 * directories with random uuids, one with a mode 0640 disk), plus names that already exist on c02
 * (a `_base` file and an instance directory with other bytes, a `_base` file with the same bytes).
 * c01 is fenced the way the runbook wants it (nova-compute stopped, SSH up, service forced down).
 * Afterwards every copied file has the source's size, sha256 and mode on c02, the names that existed
 * on c02 still hold their own bytes (reported, never replaced), nothing else appeared on c02 and the
 * staging directory is gone. Bad input first: onto itself, an unknown host, a source that is up.
 * Run it under `flock /run/lock/chatops-lab-c01c02.lock`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../core/types.js';
import { novaService, os, osOk, requireLab, restoreHost, sshHost, uniquePrefix, waitFor } from '../lab/lab-helpers.js';
import { INSTANCES, put as putIn, removeMade, sh, tree } from './instances-tree.js';
import { runApprovedOnLab, startLabBot, type LabBot } from './lab-bot.js';

const P = uniquePrefix('copy');
const C01 = INSTANCES.c01;
const C02 = INSTANCES.c02;
const vmA = randomUUID();
const vmB = randomUUID();
const vmClash = randomUUID();
let lab: LabBot;
/** Every path this test made (or the run copied), removed in afterAll. */
const made: string[] = [];
const put = (host: 'c01' | 'c02', path: string, content: string | number, mode?: string) => putIn(made, host, path, content, mode);

async function ask(text: string): Promise<string> {
  const ws = lab.standin.workspace;
  const eph = ws.ephemerals('alice').length;
  const msgs = ws.messages('ops').length;
  await lab.slack.command({ user: 'alice', channel: 'ops', command: '/node', text });
  const answer = () =>
    [
      ...ws
        .ephemerals('alice')
        .slice(eph)
        .map((x) => x.text)
        .filter((t) => !/Planning `/.test(t)),
      ...ws
        .messages('ops')
        .slice(msgs)
        .map((x) => `${x.text} ${JSON.stringify(x.blocks ?? [])}`),
    ].join('\n');
  await ws.waitFor(() => answer() !== '', 120_000, `an answer to /node ${text}`);
  return answer();
}

beforeAll(async () => {
  await requireLab();
  await put('c01', `${C01}/_base/${P}img`, 3 * 2 ** 20);
  await put('c01', `${C01}/_base/${P}same`, 'identical bytes on both nodes\n');
  await put('c01', `${C01}/_base/${P}clash`, 'the source version\n');
  await put('c01', `${C01}/${vmA}/disk`, 2 * 2 ** 20, '640');
  await put('c01', `${C01}/${vmA}/disk.info`, '{"disk": "qcow2"}\n');
  await put('c01', `${C01}/${vmA}/console.log`, 'login:\n');
  await put('c01', `${C01}/${vmB}/disk`, 512 * 1024);
  await put('c01', `${C01}/${vmClash}/disk`, 'the source disk\n');
  await put('c02', `${C02}/_base/${P}same`, 'identical bytes on both nodes\n');
  await put('c02', `${C02}/_base/${P}clash`, 'the destination version: must survive\n');
  await put('c02', `${C02}/${vmClash}/disk`, 'the destination disk: must survive\n');
  made.push(`${C02}/_base/${P}img`, `${C02}/${vmA}`, `${C02}/${vmB}`);
  lab = await startLabBot({ transport: 'http', backend: 'rest' });
}, 300_000);

afterAll(async () => {
  await lab?.close();
  await restoreHost('c01');
  await removeMade(made);
}, 300_000);

describe('/node copy-instances', () => {
  it('refuses onto itself, an unknown host and a source that is not fenced, changing nothing', async () => {
    const before = await tree('c02', C02);
    expect(await ask('copy-instances c01 c01')).toMatch(/differ|same host|itself/i);
    expect(await ask('copy-instances nowhere c02')).toMatch(/no nova-compute service on nowhere/);
    expect(await ask('copy-instances c01 nowhere')).toMatch(/no nova-compute service on nowhere/);
    const up = await ask('copy-instances c01 c02');
    expect(up).toMatch(/Nova still reports nova-compute on c01 up/);
    expect(up).toMatch(/force its service down/);
    expect(await tree('c02', C02)).toEqual(before);
    expect(await lab.store.listOperations({ runbook: 'node.copy-instances' })).toHaveLength(0);
  }, 300_000);

  it('copies _base files and instance directories of a fenced c01, verifies them and never replaces what c02 has', async () => {
    const src = await tree('c01', C01);
    const dstBefore = await tree('c02', C02);
    await sh('c01', 'lab-nova-compute stop');
    await osOk(['compute', 'service', 'set', '--down', 'c01', 'nova-compute']);
    await waitFor('c01 forced down', async () => (await novaService('c01')).forcedDown);

    const run = await runApprovedOnLab(lab, 'copy-instances c01 c02', 600_000);
    const story = `${run.card.text}\n${run.story()}`;
    expect(story).toMatch(/succeeded/);
    const plan = (await lab.store.getOperation(run.opId))!.plan as unknown as Plan;
    expect((plan.warnings ?? []).join('\n')).toMatch(/Unsupported upstream/);
    expect(plan.steps.map((s) => s.id)).toEqual(
      expect.arrayContaining(['verify-fenced', `copy:_base/${P}img`, `copy:${vmA}`, `copy:${vmB}`, 'report', 'cleanup-staging']),
    );
    expect(plan.steps.map((s) => s.id)).not.toContain(`copy:${vmClash}`);
    expect(story).toMatch(/Copied \d+ unit\(s\) from c01 to c02/);
    expect(story).toContain(`_base/${P}clash`);
    expect(story).toContain(vmClash);

    const dst = await tree('c02', C02);
    // copied: same size, mode and sha256 as on c01
    for (const rel of [`_base/${P}img`, `${vmA}/disk`, `${vmA}/disk.info`, `${vmA}/console.log`, `${vmB}/disk`]) expect(dst.get(rel), rel).toBe(src.get(rel));
    expect(dst.get(`${vmA}/disk`)).toMatch(/ 640 /);
    // never replaced
    for (const rel of [`_base/${P}same`, `_base/${P}clash`, `${vmClash}/disk`]) expect(dst.get(rel), rel).toBe(dstBefore.get(rel));
    // nothing else appeared (the staging directory is gone); c01 untouched
    const appeared = [...dst.keys()].filter((k) => !dstBefore.has(k)).sort();
    expect(appeared).toEqual([`_base/${P}img`, `${vmA}/console.log`, `${vmA}/disk`, `${vmA}/disk.info`, `${vmB}/disk`].sort());
    expect((await sshHost('c02', `ls -d ${C02}/_chatops-copy-* 2>/dev/null`)).stdout).toBe('');
    expect(await tree('c01', C01)).toEqual(src);
    await os(['compute', 'service', 'set', '--up', 'c01', 'nova-compute']);
  }, 900_000);
});
