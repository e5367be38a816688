import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySlackRequest } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SlackDriver } from '../../slack-standin/driver.js';
import { buttonsOf } from '../../slack-standin/payloads.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import { BOT } from '../../slack-standin/workspace.js';

// The HTTP driver against a bare server that records exactly what arrives and answers as told.
interface Got {
  headers: IncomingMessage['headers'];
  body: string;
}
let standin: SlackStandin;
let bot: Server;
let driver: SlackDriver;
const got: Got[] = [];
let answer: (res: ServerResponse) => void;

beforeEach(async () => {
  standin = await new SlackStandin().start();
  got.length = 0;
  answer = (res) => res.writeHead(200).end();
  bot = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += String(c)));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      answer(res);
    });
  });
  await new Promise<void>((r) => bot.listen(0, '127.0.0.1', r));
  driver = new SlackDriver(standin, { kind: 'http', url: `http://127.0.0.1:${(bot.address() as AddressInfo).port}/slack/events` });
});
afterEach(async () => {
  driver.close();
  bot.closeAllConnections();
  await new Promise((r) => bot.close(r));
  await standin.stop();
});

const verifies = (g: Got, secret = standin.signingSecret): boolean => {
  try {
    verifySlackRequest({
      signingSecret: secret,
      body: g.body,
      headers: { 'x-slack-signature': String(g.headers['x-slack-signature']), 'x-slack-request-timestamp': Number(g.headers['x-slack-request-timestamp']) },
    });
    return true;
  } catch {
    return false;
  }
};

describe('HTTP driver', () => {
  it('posts a slash command as Slack does: exact form type, every field, a v0 signature', async () => {
    await driver.command({ user: 'alice', channel: '#ops', command: '/node', text: 'drain c01 reason="disk swap"' });
    const g = got[0]!;
    expect(g.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(verifies(g)).toBe(true);
    expect(verifies(g, 'another-secret')).toBe(false);
    const form = Object.fromEntries(new URLSearchParams(g.body));
    expect(Object.keys(form).sort()).toEqual([
      'api_app_id',
      'channel_id',
      'channel_name',
      'command',
      'is_enterprise_install',
      'response_url',
      'team_domain',
      'team_id',
      'text',
      'token',
      'trigger_id',
      'user_id',
      'user_name',
    ]);
    expect(form).toMatchObject({
      user_id: 'U0ALICE01',
      channel_id: 'C0OPS0001',
      command: '/node',
      text: 'drain c01 reason="disk swap"',
      token: standin.verificationToken,
    });
    expect(form.response_url).toMatch(new RegExp(`^${standin.url}/response/`));
    expect(form.trigger_id).toMatch(/^\d+\.\d+\.[0-9a-f]{32}$/);
  });

  it('sends bad, missing, stale and future signatures, retry headers and a byte-exact replay when asked', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cmd = { user: 'alice', channel: '#ops', command: '/node', text: 'x' };
    await driver.command(cmd, { signature: 'bad' });
    await driver.command(cmd, { signature: 'missing' });
    await driver.command(cmd, { timestampOffsetSec: -600 });
    const future = await driver.command(cmd, { timestampOffsetSec: 600, retryNum: 2, retryReason: 'http_timeout' });
    await driver.resend(future.request!);
    const [bad, missing, stale, fut, replay] = got;
    expect(verifies(bad!)).toBe(false);
    expect(missing!.headers['x-slack-signature']).toBeUndefined();
    expect(Number(stale!.headers['x-slack-request-timestamp'])).toBeLessThanOrEqual(now - 600 + 2);
    expect(Number(fut!.headers['x-slack-request-timestamp'])).toBeGreaterThanOrEqual(now + 600);
    expect(fut!.headers).toMatchObject({ 'x-slack-retry-num': '2', 'x-slack-retry-reason': 'http_timeout' });
    expect(replay).toEqual(fut);
  });

  it('posts a click as payload=<block_actions JSON>, taking value and block_id from the message', async () => {
    const blocks = [
      {
        type: 'actions',
        block_id: 'plan-7',
        elements: [{ type: 'button', text: { type: 'plain_text', text: 'Approve' }, action_id: 'approve', value: 'plan-7', style: 'primary' }],
      },
    ];
    const m = standin.workspace.addMessage({
      channel: 'C0OPS0001',
      user: BOT.userId,
      botId: BOT.botId,
      text: 'plan',
      blocks,
      replyBroadcast: false,
      via: 'api',
    });
    expect(buttonsOf(m.blocks)).toEqual([{ actionId: 'approve', blockId: 'plan-7', text: 'Approve', value: 'plan-7', style: 'primary' }]);
    await driver.click({ user: 'bob', message: { channel: '#ops', ts: m.ts }, actionId: 'approve' });
    const payload = JSON.parse(new URLSearchParams(got[0]!.body).get('payload')!) as Record<string, unknown>;
    expect(verifies(got[0]!)).toBe(true);
    expect(payload).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0BOB0001', username: 'bob' },
      api_app_id: BOT.appId,
      team: { id: 'T0CHATOPS' },
      container: { type: 'message', message_ts: m.ts, channel_id: 'C0OPS0001', is_ephemeral: false },
      channel: { id: 'C0OPS0001', name: 'ops' },
      message: { ts: m.ts, text: 'plan', bot_id: BOT.botId },
      actions: [{ action_id: 'approve', block_id: 'plan-7', value: 'plan-7', type: 'button', text: { text: 'Approve' } }],
    });
    await expect(driver.click({ user: 'bob', message: { channel: '#ops', ts: m.ts }, actionId: 'reject' })).rejects.toThrow(/no button reject/);
    await driver.click({ user: 'bob', message: { channel: '#ops', ts: m.ts }, actionId: 'reject', value: 'forged' });
    expect(JSON.parse(new URLSearchParams(got[1]!.body).get('payload')!)).toMatchObject({ actions: [{ action_id: 'reject', value: 'forged' }] });
  });

  it('clicks on an ephemeral message without a message field', async () => {
    const e = standin.workspace.addEphemeral({
      channel: 'C0OPS0001',
      user: 'U0CAROL01',
      text: 'confirm?',
      via: 'api',
      blocks: [
        {
          type: 'section',
          text: { type: 'mrkdwn', text: 'go?' },
          accessory: { type: 'button', text: { type: 'plain_text', text: 'Go' }, action_id: 'go', value: '1' },
        },
      ],
    });
    await driver.click({ user: 'carol', message: { channel: '#ops', ts: e.ts, ephemeral: true }, actionId: 'go' });
    const payload = JSON.parse(new URLSearchParams(got[0]!.body).get('payload')!) as Record<string, unknown>;
    expect(payload).toMatchObject({ container: { is_ephemeral: true }, actions: [{ action_id: 'go', value: '1' }] });
    expect(payload.message).toBeUndefined();
  });

  it('posts events as signed JSON', async () => {
    await driver.event({ event: { type: 'app_mention', text: 'hi' }, eventId: 'Ev1' });
    expect(got[0]!.headers['content-type']).toBe('application/json');
    expect(verifies(got[0]!)).toBe(true);
    expect(JSON.parse(got[0]!.body)).toMatchObject({ type: 'event_callback', event_id: 'Ev1', event: { type: 'app_mention', text: 'hi' } });
  });

  it('shows a command acknowledgement as Slack does: text → ephemeral, in_channel → channel, empty → nothing', async () => {
    const cmd = { user: 'dave', channel: '#ops', command: '/node', text: 'x' };
    answer = (res) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('just you');
    expect((await driver.command(cmd)).ackBody).toBe('just you');
    answer = (res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"response_type":"in_channel","text":"everyone"}');
    await driver.command(cmd);
    answer = (res) => res.writeHead(200).end();
    expect((await driver.command(cmd)).ackBody).toBeUndefined();
    expect(standin.workspace.ephemerals('dave').map((e) => e.text)).toEqual(['just you']);
    expect(standin.workspace.messages('ops').map((m) => m.text)).toEqual(['everyone']);
  });

  it('gives up after 3 s without an answer, as Slack does', async () => {
    answer = () => undefined;
    const r = await driver.command({ user: 'alice', channel: '#ops', command: '/node', text: 'x' });
    expect(r).toMatchObject({ timedOut: true });
    expect(standin.workspace.problems.map((p) => p.kind)).toEqual(['ack_timeout']);
  });
});
