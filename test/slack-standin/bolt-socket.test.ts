import { App, LogLevel } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackDriver } from '../../slack-standin/driver.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import { BOT } from '../../slack-standin/workspace.js';

// A real Bolt 5 app in Socket Mode, connected to the stand-in through apps.connections.open.
let standin: SlackStandin;
let app: App;
let driver: SlackDriver;
const events: string[] = [];

const opens = () => standin.workspace.calls.filter((c) => c.method === 'apps.connections.open' && c.status === 200).length;

beforeAll(async () => {
  standin = await new SlackStandin().start();
  app = new App({
    token: standin.botToken,
    appToken: standin.appToken,
    socketMode: true,
    botId: BOT.botId,
    botUserId: BOT.userId,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: standin.apiUrl, retryConfig: { retries: 0 } },
  });
  app.command('/node', async ({ ack, command, client }) => {
    await ack(`checking ${command.text}`);
    await client.chat.postMessage({
      channel: command.channel_id,
      text: 'plan',
      blocks: [{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Approve' }, action_id: 'approve', value: 'p1' }] }],
    });
  });
  app.command('/slow', async () => undefined); // never acknowledges
  app.action('approve', async ({ ack, respond }) => {
    await ack();
    await respond({ response_type: 'in_channel', text: 'approved' });
  });
  app.event('app_mention', async ({ event }) => {
    events.push(event.text);
  });
  await app.start(); // resolves on the stand-in's hello
  driver = new SlackDriver(standin, { kind: 'socket' });
});
afterAll(async () => {
  await app.stop();
  await standin.stop();
});

describe('Bolt Socket Mode against the stand-in', () => {
  it('connected with the app token and got hello', () => {
    expect(standin.sockets.connections).toBe(1);
    expect(standin.workspace.calls.find((c) => c.method === 'apps.connections.open')?.token).toBe(standin.appToken);
  });

  it('delivers a slash command envelope and matches the ack frame', async () => {
    const r = await driver.command({ user: 'alice', channel: '#ops', command: '/node', text: 'drain c01' });
    expect(r).toMatchObject({ timedOut: false, ackBody: { text: 'checking drain c01' } });
    expect(standin.sockets.envelopes.at(-1)).toMatchObject({ type: 'slash_commands', accepts_response_payload: true, payload: { command: '/node' } });
    expect(standin.workspace.ephemerals('alice').at(-1)?.text).toBe('checking drain c01');
    await standin.workspace.waitFor(() => standin.workspace.messages('ops').find((m) => m.text === 'plan'));
  });

  it('delivers a click as an interactive envelope; respond() posts in the channel', async () => {
    const plan = standin.workspace.messages('ops').find((m) => m.text === 'plan')!;
    const r = await driver.click({ user: 'bob', message: { channel: 'ops', ts: plan.ts }, actionId: 'approve' });
    expect(r.timedOut).toBe(false);
    await standin.workspace.waitFor(() => standin.workspace.messages('ops').find((m) => m.text === 'approved'));
  });

  it('delivers events_api envelopes with their retry fields', async () => {
    await driver.event({ event: { type: 'app_mention', user: 'U0ALICE01', channel: 'C0OPS0001', text: 'hello bot' } }, { retryNum: 2, retryReason: 'timeout' });
    expect(standin.sockets.envelopes.at(-1)).toMatchObject({ type: 'events_api', retry_attempt: 2, retry_reason: 'timeout' });
    await standin.workspace.waitFor(() => events.includes('hello bot'));
  });

  it('detects a missed 3-second deadline (Bolt has no timer of its own in Socket Mode)', async () => {
    const r = await driver.command({ user: 'alice', channel: '#ops', command: '/slow', text: '' });
    expect(r.timedOut).toBe(true);
    expect(standin.workspace.problems.map((p) => p.kind)).toContain('ack_timeout');
  });

  // socket-mode 3 waits clientPingTimeout (5 s by default) before reconnecting, hence ~5 s each.
  const planCount = () => standin.workspace.messages('ops').filter((m) => m.text === 'plan').length;
  const commandWorks = async (text: string) => {
    const plans = planCount();
    expect((await driver.command({ user: 'carol', channel: '#ops', command: '/node', text })).timedOut).toBe(false);
    await standin.workspace.waitFor(() => planCount() > plans); // the listener's post lands before teardown
  };

  it('reconnects after a dropped socket', async () => {
    const before = opens();
    standin.dropSockets();
    await standin.workspace.waitFor(() => opens() > before && standin.sockets.connections > 0, 15_000, 'reconnect after drop');
    await commandWorks('after drop');
  });

  it('reconnects after a disconnect message', async () => {
    const before = opens();
    standin.disconnectSockets('refresh_requested');
    await standin.workspace.waitFor(() => opens() > before && standin.sockets.connections > 0, 15_000, 'reconnect after disconnect');
    await commandWorks('after refresh');
  });
});
