import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, LogLevel } from '@slack/bolt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SlackDriver } from '../../slack-standin/driver.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import { BOT } from '../../slack-standin/workspace.js';

// A real Bolt 5 app on the HTTP receiver, driven by signed requests from the stand-in's driver.
let standin: SlackStandin;
let app: App;
let driver: SlackDriver;
const seen: { command: string; text: string; retryNum?: number }[] = [];
const reasons: string[] = [];

const approveBlocks = [
  { type: 'section', text: { type: 'mrkdwn', text: 'Drain c01?' } },
  {
    type: 'actions',
    block_id: 'plan-1',
    elements: [
      { type: 'button', text: { type: 'plain_text', text: 'Approve' }, action_id: 'approve', value: 'plan-1' },
      { type: 'button', text: { type: 'plain_text', text: 'Reject' }, action_id: 'reject', value: 'plan-1' },
    ],
  },
];

beforeAll(async () => {
  standin = await new SlackStandin().start();
  app = new App({
    token: standin.botToken,
    signingSecret: standin.signingSecret,
    botId: BOT.botId,
    botUserId: BOT.userId,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: standin.apiUrl, retryConfig: { retries: 0 } },
  });
  app.command('/node', async ({ ack, command, client, context }) => {
    seen.push({ command: command.command, text: command.text, ...(context.retryNum !== undefined ? { retryNum: context.retryNum } : {}) });
    await ack({ response_type: 'ephemeral', text: `checking ${command.text}` });
    await client.chat.postMessage({ channel: command.channel_id, text: 'plan', blocks: approveBlocks });
  });
  app.command('/slow', async () => undefined); // never acknowledges
  app.action('reject', async ({ ack, body, client }) => {
    await ack();
    await client.views.open({
      trigger_id: (body as { trigger_id: string }).trigger_id,
      view: {
        type: 'modal',
        callback_id: 'reject_reason',
        title: { type: 'plain_text', text: 'Reject' },
        submit: { type: 'plain_text', text: 'Reject' },
        blocks: [{ type: 'input', block_id: 'reason', label: { type: 'plain_text', text: 'Why?' }, element: { type: 'plain_text_input', action_id: 'text' } }],
      },
    });
  });
  app.view('reject_reason', async ({ ack, view }) => {
    const reason = view.state.values.reason?.text?.value ?? '';
    if (!reason.trim()) return void (await ack({ response_action: 'errors', errors: { reason: 'Say why.' } }));
    await ack();
    reasons.push(reason);
  });
  app.action('approve', async ({ ack, respond, body }) => {
    await ack();
    await respond({ replace_original: true, text: `approved by ${body.user.id}` });
  });
  const server = (await app.start(0)) as Server;
  driver = new SlackDriver(standin, { kind: 'http', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events` });
});
afterAll(async () => {
  driver.close();
  await app.stop();
  await standin.stop();
});
beforeEach(() => {
  seen.length = 0;
});

const posts = () => standin.workspace.calls.filter((c) => c.method === 'chat.postMessage').length;

describe('Bolt HTTP receiver against the stand-in', () => {
  it('acknowledges a signed slash command; the ack body is shown to the user, the listener posts', async () => {
    const r = await driver.command({ user: 'alice', channel: '#ops', command: '/node', text: 'drain c01' });
    expect(r).toMatchObject({ status: 200, timedOut: false, ackBody: { response_type: 'ephemeral', text: 'checking drain c01' } });
    expect(r.request?.headers['Content-Type']).toBe('application/x-www-form-urlencoded');
    expect(r.payload).toMatchObject({ user_id: 'U0ALICE01', user_name: 'alice', channel_id: 'C0OPS0001', channel_name: 'ops', api_app_id: BOT.appId });
    expect(standin.workspace.ephemerals('alice', '#ops').at(-1)?.text).toBe('checking drain c01');
    const plan = await standin.workspace.waitFor(() => standin.workspace.messages('ops').find((m) => m.text === 'plan'));
    expect(plan.blocks).toEqual(approveBlocks);
  });

  it.each([
    ['a bad signature', { signature: 'bad' as const }],
    ['no signature', { signature: 'missing' as const }],
    ['a stale timestamp', { timestampOffsetSec: -6 * 60 }],
  ])('answers 401 to %s and runs nothing', async (_name, opts) => {
    const before = posts();
    const r = await driver.command({ user: 'alice', channel: '#ops', command: '/node', text: 'x' }, opts);
    expect(r.status).toBe(401);
    expect(seen).toEqual([]);
    expect(posts()).toBe(before);
  });

  it('lets a future-dated request through: Bolt checks staleness only, so the bot must check the window itself', async () => {
    const r = await driver.command({ user: 'alice', channel: '#ops', command: '/node', text: 'future' }, { timestampOffsetSec: 6 * 60 });
    expect(r.status).toBe(200);
    expect(seen).toHaveLength(1);
  });

  it('answers 400 when the Content-Type carries a charset, and to a malformed interactive body', async () => {
    const charset = await driver.command(
      { user: 'alice', channel: '#ops', command: '/node', text: 'x' },
      { contentType: 'application/x-www-form-urlencoded; charset=utf-8' },
    );
    expect(charset.status).toBe(400);
    const m = standin.workspace.messages('ops').find((x) => x.text === 'plan')!;
    const broken = await driver.click({ user: 'bob', message: { channel: '#ops', ts: m.ts }, actionId: 'approve' }, { rawBody: 'payload=%7Bnot-json' });
    expect(broken.status).toBe(400);
    expect(seen).toEqual([]);
  });

  it('passes X-Slack-Retry-Num through, and a replay of the same bytes is delivered again (Bolt does not dedupe)', async () => {
    const first = await driver.command({ user: 'alice', channel: '#ops', command: '/node', text: 'retry' }, { retryNum: 1, retryReason: 'http_timeout' });
    await driver.resend(first.request!);
    expect(seen).toEqual([
      { command: '/node', text: 'retry', retryNum: 1 },
      { command: '/node', text: 'retry', retryNum: 1 },
    ]);
  });

  it('delivers a button click as block_actions; respond() replaces the original message', async () => {
    await driver.command({ user: 'alice', channel: '#ops', command: '/node', text: 'drain c02' });
    const plan = await standin.workspace.waitFor(() => standin.workspace.messages('ops').findLast((m) => m.text === 'plan'));
    const r = await driver.click({ user: 'bob', message: { channel: '#ops', ts: plan.ts }, actionId: 'approve' });
    expect(r).toMatchObject({ status: 200, timedOut: false });
    expect(r.payload).toMatchObject({
      type: 'block_actions',
      actions: [{ action_id: 'approve', block_id: 'plan-1', value: 'plan-1' }],
      container: { message_ts: plan.ts },
    });
    await standin.workspace.waitFor(() => standin.workspace.message('ops', plan.ts)?.text === 'approved by U0BOB0001');
    expect(standin.workspace.message('ops', plan.ts)?.edits.map((e) => e.text)).toEqual(['plan']);
  });

  it('opens a modal from a click and submits it: refused with errors, then accepted and closed', async () => {
    await driver.command({ user: 'alice', channel: '#ops', command: '/node', text: 'drain c03' });
    const plan = await standin.workspace.waitFor(() => standin.workspace.messages('ops').findLast((m) => m.text === 'plan'));
    await driver.click({ user: 'carol', message: { channel: '#ops', ts: plan.ts }, actionId: 'reject' });
    const view = await standin.workspace.waitFor(() => standin.workspace.openViews('carol')[0]);
    const empty = await driver.submitView({ user: 'carol', viewId: view.id, values: { reason: { text: ' ' } } });
    expect(empty.ackBody).toEqual({ response_action: 'errors', errors: { reason: 'Say why.' } });
    expect(standin.workspace.views.get(view.id)).toMatchObject({ open: true, errors: { reason: 'Say why.' } });
    await driver.submitView({ user: 'carol', viewId: view.id, values: { reason: { text: 'disk is fine' } } });
    expect(standin.workspace.views.get(view.id)?.open).toBe(false);
    expect(reasons).toEqual(['disk is fine']);
  });

  it('reports a listener that never acknowledges as timed out after 3 s', async () => {
    const r = await driver.command({ user: 'alice', channel: '#ops', command: '/slow', text: '' });
    expect(r.timedOut).toBe(true);
    expect(standin.workspace.problems.map((p) => p.kind)).toContain('ack_timeout');
  });
});
