/**
 * The inspect runbook's time box on the lab's c03: the bot as main.ts assembles it, in process, with
 * the runbooks' clock (deps.node.clock, which only the runbooks read) running 100,000 times faster
 * than the Slack side and the store, so the 10-minute box is over 6 ms after the guest is paused.
 * The next step fails on the box, the clean-up runs, the guest runs again and c03 is left clean.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGISTRY, RUNBOOKS } from '../../actions/index.js';
import type { NodeDeps } from '../../actions/deps.js';
import { buildDeps } from '../../compose/build-deps.js';
import type { SlackDriver } from '../../slack-standin/driver.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import type { Clock } from '../../core/clock.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/store.js';
import { SIGNING_SECRET } from '../helpers/bot-process.js';
import { startInProcessBot } from '../helpers/in-process-bot.js';
import { cleanup, requireLab, uniquePrefix } from '../lab/lab-helpers.js';
import { askInspect, bootGuest, clickApprove, endOf, leftOnNode, novaStatus, type Guest } from '../e2e/inspect-lab.js';
import { LAB_DIR, labConfig } from './lab-bot.js';

const P = uniquePrefix('inspt');
const t0 = Date.now();
/** Real time since t0, times 100,000. */
const fast: Clock = { now: () => t0 + (Date.now() - t0) * 100_000 };

describe('/instance inspect: the time box', () => {
  let standin: SlackStandin;
  let store: Store;
  let guest: Guest;
  let slack: SlackDriver;
  let close: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    await requireLab(['c03']); // c03 only: c01/c02 belong to the other lock
    expect(REGISTRY.some((r) => r.spec.name === 'instance.inspect')).toBe(true);
    guest = await bootGuest(`${P}guest`);
    standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
    const dir = mkdtempSync(join(tmpdir(), 'inspect-box-'));
    store = await openStore({ kind: 'sqlite', path: join(dir, 'state.sqlite') });
    const env = { ...process.env, OS_CLIENT_CONFIG_FILE: `${LAB_DIR}/clouds.yaml`, PYTHONWARNINGS: 'ignore' };
    const built = buildDeps({ ...labConfig('rest'), source: 'test' }, fast, store, env);
    const started = await startInProcessBot<NodeDeps>({ standin, transport: 'http', store, runbooks: RUNBOOKS, deps: built.deps, owner: 'inspect-box' });
    slack = started.slack;
    close = async () => {
      await started.bot.shutdown(5000);
      await built.close();
      await store.close();
      await standin.stop();
    };
  }, 300_000);

  afterAll(async () => {
    await close();
    await cleanup(P);
  }, 300_000);

  it('stops reading when the box runs out, cleans up, and says so', async () => {
    const { ts } = await askInspect(standin, slack, `inspect ${guest.id} reason="time box test" path=/home/ubuntu/notes.txt`);
    await clickApprove(standin, slack, ts, 'bob'); // local-mode approvals: bob approves user data too
    await standin.workspace.waitFor(() => endOf(standin, ts), 120_000, 'the inspection to end');
    expect(endOf(standin, ts)).toBe('failed');
    const thread = standin.workspace
      .thread('ops', ts)
      .map((m) => `${m.text} ${JSON.stringify(m.blocks ?? [])}`)
      .join('\n');
    expect(thread).toMatch(/time box of 10m ran out/);
    expect(standin.workspace.ephemerals('alice').some((e) => e.text.includes('hello from the guest disk'))).toBe(false);
    expect(await leftOnNode(guest.domain)).toEqual([]);
    expect(await novaStatus(guest.id)).toBe('ACTIVE');
  });
});
