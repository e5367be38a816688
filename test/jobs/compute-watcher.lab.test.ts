/**
 * The watcher on the real lab through the Slack stand-in (issue 14): c01 dies (lab/kill-host:
 * nova-compute and sshd stopped; Nova says `down` after its service_down_time, 15 s in the lab's
 * nova.conf) → ONE incident card within the grace period plus one interval of Nova saying so, with
 * the server booted there and `/node evacuate c01 c02`; its button leads to the evacuate plan and
 * its approval request (not approved: nothing moves); the bot restarts meanwhile and posts no second
 * card; c01 comes back (lab/revive-host) → the follow-up in the card's thread.
 * Interval 2 s, grace 5 s. Run it under `flock /run/lock/chatops-lab-c01c02.lock`; c01 is revived,
 * forced up and enabled afterwards whatever happens.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNBOOKS } from '../../actions/index.js';
import type { NodeDeps } from '../../actions/deps.js';
import type { RestCloud } from '../../adapters/openstack/rest-cloud.js';
import { buildDeps } from '../../compose/build-deps.js';
import { watcherOver } from '../../compose/build-watcher.js';
import type { Bot } from '../../compose/build-bot.js';
import { systemClock } from '../../core/clock.js';
import type { SlackDriver } from '../../slack-standin/driver.js';
import { buttonsOf } from '../../slack-standin/payloads.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import type { Message } from '../../slack-standin/workspace.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/store.js';
import { labConfig } from '../actions/lab-bot.js';
import { SIGNING_SECRET } from '../helpers/bot-process.js';
import { startInProcessBot } from '../helpers/in-process-bot.js';
import { NOVA_URL, Rest, bootServer, cleanup, os, osOk, requireLab, uniquePrefix, waitFor } from '../lab/lab-helpers.js';

const REPO = new URL('../../', import.meta.url).pathname;
const LAB_DIR = process.env['LAB'] ?? '/var/lib/openstack-lab';
const P = uniquePrefix('watch');
const INTERVAL = 2000;
const GRACE = 5000;
const OPS = 'C0OPS0001';

interface Running {
  bot: Bot<NodeDeps>;
  slack: SlackDriver;
  store: Store;
  close(): Promise<void>;
}

let standin: SlackStandin;
let rest: Rest;
let dir: string;
let running: Running | undefined;
let server: string;
const env = { ...process.env, OS_CLIENT_CONFIG_FILE: `${LAB_DIR}/clouds.yaml`, OS_COMPUTE_API_VERSION: '2.79', PYTHONWARNINGS: 'ignore' };

/** The bot as main.ts builds it with `watcher: { channel, interval: 2s, grace: 5s }`, on the SQLite file in `dir`. */
async function startBot(): Promise<Running> {
  const store = await openStore({ kind: 'sqlite', path: join(dir, 'state.sqlite') });
  const built = buildDeps({ ...labConfig('rest'), source: 'test' }, systemClock, store, env);
  const watcher = watcherOver([{ name: 'lab', cloud: built.deps.node!.cloud as RestCloud, commandable: true }], {
    store,
    channel: OPS,
    graceMs: GRACE,
    intervalMs: INTERVAL,
    leaseMs: 60_000,
    owner: 'lab-watcher',
    clock: systemClock,
  });
  const { bot, slack } = await startInProcessBot<NodeDeps>({
    standin,
    transport: 'http',
    store,
    runbooks: RUNBOOKS,
    deps: built.deps,
    owner: 'lab-watcher',
    watcher,
  });
  return {
    bot,
    slack,
    store,
    async close() {
      await bot.shutdown(5000);
      await built.close();
      await store.close();
    },
  };
}

const service = async (host: string) =>
  (await rest.call<{ services: { state: string; status: string; forced_down: boolean }[] }>('GET', `${NOVA_URL}/os-services?binary=nova-compute&host=${host}`))
    .body.services[0]!;
const c01Cards = (): Message[] => standin.workspace.messages(OPS).filter((m) => /nova-compute on c01 \(cloud lab\) is down since/.test(m.text));

beforeAll(async () => {
  await requireLab();
  rest = await Rest.login();
  dir = mkdtempSync(join(tmpdir(), 'watcher-lab-'));
  standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
  server = await bootServer(`${P}-vm`, 'c01');
  running = await startBot();
});

afterAll(async () => {
  await execa('bash', [`${REPO}lab/revive-host`, 'c01'], { timeout: 120_000 }).catch(() => undefined);
  await running?.close().catch(() => undefined);
  await standin?.stop();
  // c01 must be left up, enabled and not forced down whatever happened
  await waitFor('c01 forced up', async () => (await os(['compute', 'service', 'set', '--up', 'c01', 'nova-compute'])).exitCode === 0, {
    timeoutMs: 120_000,
    intervalMs: 2000,
  });
  await osOk(['compute', 'service', 'set', '--enable', 'c01', 'nova-compute']);
  await cleanup(P);
});

describe('the compute watcher on the lab', () => {
  let card: Message;

  it('posts one incident card within the grace period plus one interval of Nova saying c01 is down', async () => {
    // quiet while every compute is up (at least one tick has run)
    await new Promise((r) => setTimeout(r, INTERVAL * 2));
    expect(c01Cards()).toHaveLength(0);
    await execa('bash', [`${REPO}lab/kill-host`, 'c01']);
    await waitFor('Nova to see c01 down', async () => (await service('c01')).state === 'down', { timeoutMs: 90_000, intervalMs: 500 });
    const downAt = Date.now();
    // grace + one interval, plus what this loaded 2-core machine adds (one more interval and the card's reads)
    await standin.workspace.waitFor(() => c01Cards().length > 0, GRACE + INTERVAL + INTERVAL + 15_000, 'the incident card of c01');
    const took = Date.now() - downAt;
    console.info(`incident card ${took} ms after this test saw Nova report c01 down (grace ${GRACE} ms, interval ${INTERVAL} ms; an upper bound under load)`);
    card = c01Cards()[0]!;
    const shown = `${card.text} ${JSON.stringify(card.blocks)}`;
    expect(shown).toContain(`${P}-vm`);
    expect(shown).toContain(server);
    expect(shown).toMatch(/\/node evacuate c01 c02 reason=\\"nova-compute down since [0-9T:.-]+, watcher incident in-[a-z2-7]{12}\\"/);
    // a few more intervals: still one card
    await new Promise((r) => setTimeout(r, INTERVAL * 3));
    expect(c01Cards()).toHaveLength(1);
  }, 180_000);

  it('its button leads to the evacuate plan and an approval request (not approved: nothing moves)', async () => {
    const before = standin.workspace.messages(OPS).length;
    const button = buttonsOf(card.blocks).find((b) => b.actionId === 'incident.evacuate')!;
    expect(button).toBeDefined();
    await running!.slack.click({ user: 'alice', message: { channel: OPS, ts: card.ts }, actionId: 'incident.evacuate', value: button.value! });
    await standin.workspace.waitFor(
      () =>
        standin.workspace
          .messages(OPS)
          .slice(before)
          .some((m) => buttonsOf(m.blocks).some((b) => b.actionId === 'approval.approve')),
      120_000,
      'the evacuate plan with its approval request',
    );
    const preview = standin.workspace
      .messages(OPS)
      .slice(before)
      .find((m) => buttonsOf(m.blocks).some((b) => b.actionId === 'approval.approve'))!;
    expect(`${preview.text} ${JSON.stringify(preview.blocks)}`).toMatch(/evacuate c01 → c02/);
    const [op] = await running!.store.listOperations({ runbook: 'node.evacuate', target: 'c01', limit: 1 });
    expect(op).toMatchObject({ state: 'pending_approval', requester: expect.objectContaining({ userName: 'alice' }) });
    expect((await running!.store.listApprovals({ operationId: op!.id }))[0]).toMatchObject({ state: 'pending' });
    // the incident's thread names the operation (posted just after the preview)
    await standin.workspace.waitFor(
      () => standin.workspace.thread(OPS, card.ts).some((m) => m.text.includes(`operation \`${op!.id}\``)),
      30_000,
      'the incident thread to name the operation',
    );
    // nothing moved: c01 is not forced down or disabled by the bot, the server is still on c01
    expect(await service('c01')).toMatchObject({ state: 'down', status: 'enabled', forced_down: false });
    const shown = await rest.call<{ server: Record<string, unknown> }>('GET', `${NOVA_URL}/servers/${server}`);
    expect(shown.body.server['OS-EXT-SRV-ATTR:host']).toBe('c01');
  }, 180_000);

  it('a restart of the bot while c01 stays down posts no second card', async () => {
    await running!.close();
    running = await startBot();
    await new Promise((r) => setTimeout(r, INTERVAL * 4));
    expect(c01Cards()).toHaveLength(1);
    const [incident] = await running.store.listIncidents({ cloud: 'lab', host: 'c01', limit: 1 });
    expect(incident).toMatchObject({ state: 'open', cardTs: card.ts });
  }, 120_000);

  it('posts the follow-up in the card thread once c01 reports again', async () => {
    await execa('bash', [`${REPO}lab/revive-host`, 'c01'], { timeout: 120_000 });
    await standin.workspace.waitFor(
      () => standin.workspace.thread(OPS, card.ts).some((m) => /reports again/.test(m.text)),
      60_000,
      'the follow-up in the incident thread',
    );
    const replies = standin.workspace.thread(OPS, card.ts).filter((m) => /reports again/.test(m.text));
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toMatch(/nova-compute on c01 \(cloud lab\) reports again .* is resolved/);
    expect(c01Cards()).toHaveLength(1);
  }, 180_000);
});
