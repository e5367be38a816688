import { webApi } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { SLACK_LIMITS as L } from '../../bot/render/slack-limits.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import { BOT } from '../../slack-standin/workspace.js';

const { WebClient, ErrorCode } = webApi;
type Client = InstanceType<typeof WebClient>;

let standin: SlackStandin;
let client: Client;
const client0 = (s: SlackStandin, token = s.botToken, opts: ConstructorParameters<typeof WebClient>[1] = {}): Client =>
  new WebClient(token, { slackApiUrl: s.apiUrl, retryConfig: { retries: 0 }, ...opts });

/** The Slack error name of a rejected call. */
async function slackError(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e as { code?: string; data?: { error?: string } },
  );
  expect(err?.code, 'the call should have been rejected').toBe(ErrorCode.PlatformError);
  return err?.data?.error ?? '';
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const button = (over: Record<string, unknown> = {}) => ({
  type: 'button',
  text: { type: 'plain_text', text: 'Approve' },
  action_id: 'approve',
  value: 'v',
  ...over,
});
const actions = (elements: unknown[]) => ({ type: 'actions', elements });

beforeEach(async () => {
  standin = await new SlackStandin().start();
  client = client0(standin);
});
afterEach(() => standin.stop());

describe('Web API as web-api 8 calls it', () => {
  it('answers auth.test for the bot token and records the call with its token', async () => {
    const r = await client.auth.test();
    expect(r).toMatchObject({ ok: true, user_id: BOT.userId, bot_id: BOT.botId });
    expect(standin.workspace.calls.at(-1)).toMatchObject({ method: 'auth.test', token: standin.botToken, status: 200 });
  });

  it('refuses missing, unknown and wrong-kind tokens', async () => {
    expect(await slackError(client0(standin, '').auth.test())).toBe('not_authed');
    expect(await slackError(client0(standin, 'xoxb-forged').auth.test())).toBe('invalid_auth');
    expect(await slackError(client0(standin, standin.appToken).auth.test())).toBe('not_allowed_token_type');
    expect(await slackError(client.apps.connections.open())).toBe('not_allowed_token_type');
    const open = await client0(standin, standin.appToken).apps.connections.open();
    expect(open.url).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${standin.port}/link/\\?ticket=`));
  });

  it('posts, threads, broadcasts and ignores unknown arguments', async () => {
    const parent = await client.chat.postMessage({ channel: 'C0OPS0001', text: 'plan', blocks: [section('plan')], team_id: 'T0CHATOPS' } as never);
    const reply = await client.chat.postMessage({ channel: 'C0OPS0001', text: 'step 1', thread_ts: parent.ts! });
    await client.chat.postMessage({ channel: 'C0OPS0001', text: 'done', thread_ts: reply.ts!, reply_broadcast: true });
    const ws = standin.workspace;
    expect(ws.thread('#ops', parent.ts!).map((m) => m.text)).toEqual(['plan', 'step 1', 'done']);
    expect(ws.messages('ops').map((m) => m.text)).toEqual(['plan', 'done']);
    expect(ws.messages('ops')[0]?.blocks).toEqual([section('plan')]);
    expect(ws.calls.find((c) => c.method === 'chat.postMessage')?.args.team_id).toBe('T0CHATOPS');
    expect(await slackError(client.chat.postMessage({ channel: 'C0NOPE', text: 'x' }))).toBe('channel_not_found');
    expect(await slackError(client.chat.postMessage({ channel: 'C0OPS0001', text: 'x', thread_ts: '1.000001' }))).toBe('thread_not_found');
  });

  it('updates only existing messages of its own, keeping the edit history', async () => {
    const m = await client.chat.postMessage({ channel: 'C0OPS0001', text: 'v1' });
    await client.chat.update({ channel: 'C0OPS0001', ts: m.ts!, text: 'v2' });
    await client.chat.update({ channel: 'C0OPS0001', ts: m.ts!, text: 'v3', blocks: [section('v3')] });
    expect(standin.workspace.message('ops', m.ts!)).toMatchObject({ text: 'v3', edits: [{ text: 'v1' }, { text: 'v2' }] });
    await client.chat.update({ channel: 'C0OPS0001', ts: m.ts!, text: 'v4' }); // blocks absent: kept, as Slack does
    expect(standin.workspace.message('ops', m.ts!)?.blocks).toEqual([section('v3')]);
    await client.chat.update({ channel: 'C0OPS0001', ts: m.ts!, text: 'v5', blocks: [] }); // empty array: removed
    expect(standin.workspace.message('ops', m.ts!)?.blocks).toBeUndefined();
    expect(await slackError(client.chat.update({ channel: 'C0OPS0001', ts: '9.000009', text: 'x' }))).toBe('message_not_found');
    const human = standin.workspace.addMessage({ channel: 'C0OPS0001', user: 'U0ALICE01', text: 'hi', replyBroadcast: false, via: 'api' });
    expect(await slackError(client.chat.update({ channel: 'C0OPS0001', ts: human.ts, text: 'x' }))).toBe('cant_update_message');
  });

  it('shows ephemerals to one user only and answers look-ups', async () => {
    await client.chat.postEphemeral({ channel: 'C0OPS0001', user: 'U0BOB0001', text: 'only bob' });
    expect(standin.workspace.ephemerals('bob', '#ops').map((e) => e.text)).toEqual(['only bob']);
    expect(standin.workspace.ephemerals('alice')).toEqual([]);
    expect((await client.users.info({ user: 'U0CAROL01' })).user?.name).toBe('carol');
    expect(await slackError(client.users.info({ user: 'U0NOBODY' }))).toBe('user_not_found');
    expect((await client.usergroups.users.list({ usergroup: 'S0APPROVE' })).users).toEqual(['U0BOB0001', 'U0CAROL01']);
    expect((await client.conversations.info({ channel: 'C0OPS0001' })).channel?.name).toBe('ops');
  });

  it('keeps metadata, and refuses channels the bot is not in as Slack does', async () => {
    const metadata = { event_type: 'plan_posted', event_payload: { plan: 'p1' } };
    const m = await client.chat.postMessage({ channel: 'C0OPS0001', text: 'x', metadata });
    expect(standin.workspace.message('ops', m.ts!)?.metadata).toEqual(metadata);
    const link = await client.chat.getPermalink({ channel: 'C0OPS0001', message_ts: m.ts! });
    expect(link.permalink).toBe(`https://chatops-local.slack.com/archives/C0OPS0001/p${m.ts!.replace('.', '')}`);
    standin.workspace.addChannel({ id: 'C0LOUNGE1', name: 'lounge', isPrivate: false, members: ['U0ALICE01'] });
    standin.workspace.addChannel({ id: 'G0SECRET1', name: 'secret', isPrivate: true, members: ['U0ALICE01'] });
    expect(await slackError(client.chat.postMessage({ channel: 'C0LOUNGE1', text: 'x' }))).toBe('not_in_channel');
    expect(await slackError(client.chat.postMessage({ channel: 'G0SECRET1', text: 'x' }))).toBe('channel_not_found');
    const dm = await client.chat.postMessage({ channel: 'U0BOB0001', text: 'psst' });
    expect(standin.workspace.messages(dm.channel!).map((x) => x.text)).toEqual(['psst']);
  });

  it('answers unknown_method and records it as a problem', async () => {
    expect(await slackError(client.apiCall('chat.scheduleMessage', { channel: 'C0OPS0001', text: 'x', post_at: 1 }))).toBe('unknown_method');
    expect(standin.workspace.problems.map((p) => p.kind)).toEqual(['unknown_method']);
  });
});

describe('Block Kit and message limits, rejected as Slack rejects them', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['51 blocks', { blocks: Array.from({ length: L.blocksPerMessage + 1 }, () => section('x')) }, 'invalid_blocks'],
    ['a section over 3,000 characters', { blocks: [section('x'.repeat(L.sectionText + 1))] }, 'invalid_blocks'],
    ['a header over 150', { blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(L.headerText + 1) } }] }, 'invalid_blocks'],
    ['button text over 75', { blocks: [actions([button({ text: { type: 'plain_text', text: 'b'.repeat(L.buttonText + 1) } })])] }, 'invalid_blocks'],
    ['button value over 2,000', { blocks: [actions([button({ value: 'v'.repeat(L.buttonValue + 1) })])] }, 'invalid_blocks'],
    ['action_id over 255', { blocks: [actions([button({ action_id: 'a'.repeat(L.actionId + 1) })])] }, 'invalid_blocks'],
    ['block_id over 255', { blocks: [{ ...section('x'), block_id: 'b'.repeat(L.blockId + 1) }] }, 'invalid_blocks'],
    ['26 action elements', { blocks: [actions(Array.from({ length: L.actionsElements + 1 }, (_, i) => button({ action_id: `a${i}` })))] }, 'invalid_blocks'],
    [
      '11 fields',
      { blocks: [{ type: 'section', fields: Array.from({ length: L.sectionFields + 1 }, () => ({ type: 'mrkdwn', text: 'f' })) }] },
      'invalid_blocks',
    ],
    [
      '11 context elements',
      { blocks: [{ type: 'context', elements: Array.from({ length: L.contextElements + 1 }, () => ({ type: 'mrkdwn', text: 'c' })) }] },
      'invalid_blocks',
    ],
    ['text over 40,000', { text: 't'.repeat(L.messageText + 1) }, 'msg_too_long'],
    ['nothing to show', { text: '' }, 'no_text'],
  ];
  it.each(cases)('rejects %s', async (_name, content, error) => {
    const r = slackError(client.chat.postMessage({ channel: 'C0OPS0001', text: 'fallback', ...content } as never));
    expect(await r).toBe(error);
    expect(standin.workspace.messages('ops')).toEqual([]);
  });

  it('accepts everything exactly at the limits', async () => {
    const full = [
      { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(L.headerText) } },
      { ...section('s'.repeat(L.sectionText)), block_id: 'b'.repeat(L.blockId) },
      actions(
        Array.from({ length: L.actionsElements }, (_, i) =>
          button({ action_id: `${i}`.padEnd(L.actionId, 'a'), value: 'v'.repeat(L.buttonValue), text: { type: 'plain_text', text: 't'.repeat(L.buttonText) } }),
        ),
      ),
      ...Array.from({ length: L.blocksPerMessage - 3 }, () => section('x')),
    ];
    await client.chat.postMessage({ channel: 'C0OPS0001', text: 't'.repeat(L.messageText), blocks: full });
    expect(standin.workspace.messages('ops')).toHaveLength(1);
  });

  it('accepts blocks without top-level text but records the missing fallback', async () => {
    await client.chat.postMessage({ channel: 'C0OPS0001', blocks: [section('x')] } as never);
    expect(standin.workspace.problems.map((p) => p.kind)).toEqual(['missing_text']);
  });

  it('names the offending field as Slack does', async () => {
    await client.chat.postMessage({ channel: 'C0OPS0001', text: 'x', blocks: [section('ok'), section('x'.repeat(3001))] }).catch(() => undefined);
    expect(standin.workspace.calls.at(-1)?.result).toMatchObject({ errors: ['must be less than 3001 characters [json-pointer:/blocks/1/text/text]'] });
  });
});

describe('rate limits and faults', () => {
  it('answers 429 with Retry-After, which web-api waits out before retrying', async () => {
    const retrying = client0(standin, standin.botToken, { retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 } });
    const waits: number[] = [];
    retrying.on(webApi.WebClientEvent.RATE_LIMITED, (sec: number) => waits.push(sec));
    standin.injectRateLimit({ method: 'chat.postMessage', retryAfterSec: 1, count: 1 });
    const r = await retrying.chat.postMessage({ channel: 'C0OPS0001', text: 'after the wait' });
    expect(r.ok).toBe(true);
    expect(waits).toEqual([1]);
    const posts = standin.workspace.calls.filter((c) => c.method === 'chat.postMessage');
    expect(posts.map((c) => c.status)).toEqual([429, 200]);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(1000 - 20);
  });

  it('enforces about one post per second per channel with a small burst, and Tier 3 for chat.update', async () => {
    const clock = new ManualClock();
    const s = await new SlackStandin({ clock, enforceRateLimits: true }).start();
    try {
      const c = client0(s, s.botToken, { rejectRateLimitedCalls: true });
      for (let i = 0; i < L.postMessageBurst; i++) await c.chat.postMessage({ channel: 'C0OPS0001', text: `${i}` });
      const limited = await c.chat.postMessage({ channel: 'C0OPS0001', text: 'too fast' }).catch((e: { code: string; retryAfter: number }) => e);
      expect(limited).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 1 });
      await c.chat.postMessage({ channel: 'C0GENERAL', text: 'another channel is fine' });
      clock.advance(1000);
      await c.chat.postMessage({ channel: 'C0OPS0001', text: 'a second later' });
      const m = await c.chat.postMessage({ channel: 'C0GENERAL', text: 'edit me' });
      for (let i = 0; i < L.tier3PerMinute; i++) await c.chat.update({ channel: 'C0GENERAL', ts: m.ts!, text: `${i}` });
      await expect(c.chat.update({ channel: 'C0GENERAL', ts: m.ts!, text: 'x' })).rejects.toMatchObject({ code: ErrorCode.RateLimitedError });
      clock.advance(60_000);
      await c.chat.update({ channel: 'C0GENERAL', ts: m.ts!, text: 'a minute later' });
    } finally {
      await s.stop();
    }
  });

  it('answers injected 5xx as an HTTP error, then recovers', async () => {
    standin.injectRateLimit({ retryAfterSec: 30 }); // every method, until cleared
    await expect(client0(standin, standin.botToken, { rejectRateLimitedCalls: true }).auth.test()).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
      retryAfter: 30,
    });
    standin.clearFaults();
    standin.inject5xx({ method: 'users.info', count: 1, status: 503 });
    await expect(client.users.info({ user: 'U0BOB0001' })).rejects.toMatchObject({ code: ErrorCode.HTTPError, statusCode: 503 });
    expect((await client.users.info({ user: 'U0BOB0001' })).ok).toBe(true);
  });
});

describe('views', () => {
  const modal = (title = 'Reject') => ({ type: 'modal' as const, title: { type: 'plain_text' as const, text: title }, blocks: [section('why?')] });

  it('opens a view once per trigger_id, within 3 s, and checks it as Slack does', async () => {
    const clock = new ManualClock();
    const s = await new SlackStandin({ clock }).start();
    try {
      const c = client0(s);
      const t = (id: string) => s.workspace.triggers.set(id, { user: 'U0BOB0001', at: clock.now(), used: false });
      t('t1');
      t('t2');
      expect(await slackError(c.views.open({ trigger_id: 't1', view: modal('t'.repeat(L.viewTitle + 1)) }))).toBe('invalid_arguments');
      const opened = await c.views.open({ trigger_id: 't1', view: modal() });
      expect(s.workspace.openViews('bob').map((v) => v.id)).toEqual([opened.view?.id]);
      expect(await slackError(c.views.open({ trigger_id: 't1', view: modal() }))).toBe('exchanged_trigger_id');
      expect(await slackError(c.views.open({ trigger_id: 'nope', view: modal() }))).toBe('invalid_trigger_id');
      clock.advance(L.triggerTtlMs + 1);
      expect(await slackError(c.views.open({ trigger_id: 't2', view: modal() }))).toBe('expired_trigger_id');
      await c.views.update({ view_id: opened.view!.id!, view: modal('Reject plan') });
      expect(s.workspace.views.get(opened.view!.id!)?.view.title).toEqual({ type: 'plain_text', text: 'Reject plan' });
      expect(await slackError(c.views.update({ view_id: 'V0NOPE', view: modal() }))).toBe('not_found');
    } finally {
      await s.stop();
    }
  });
});

describe('response_url', () => {
  it('takes five posts, then refuses; and expires after 30 minutes', async () => {
    const url = standin.newResponseUrl({ channel: 'C0OPS0001', user: 'U0ALICE01' });
    const post = (text: string) => fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text }) });
    for (let i = 1; i <= L.responseUrlUses; i++) expect((await post(`${i}`)).status).toBe(200);
    const sixth = await post('6');
    expect([sixth.status, await sixth.text()]).toEqual([404, 'used_url']);
    expect(standin.workspace.ephemerals('alice').map((e) => e.text)).toEqual(['1', '2', '3', '4', '5']);

    const clock = new ManualClock();
    const s = await new SlackStandin({ clock }).start();
    try {
      const late = s.newResponseUrl({ channel: 'C0OPS0001', user: 'U0ALICE01' });
      clock.advance(L.responseUrlTtlMs + 1);
      const r = await fetch(late, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"text":"late"}' });
      expect([r.status, await r.text()]).toEqual([404, 'expired_url']);
    } finally {
      await s.stop();
    }
  });

  it('posts in channel, replaces and deletes the original as asked', async () => {
    const m = await client.chat.postMessage({ channel: 'C0OPS0001', text: 'approve?' });
    const url = standin.newResponseUrl({ channel: 'C0OPS0001', user: 'U0BOB0001', messageTs: m.ts! });
    const post = (body: unknown) => fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    await post({ response_type: 'in_channel', text: 'bob approved' });
    await post({ replace_original: true, text: 'approved by bob' });
    expect(standin.workspace.messages('ops').map((x) => x.text)).toEqual(['approved by bob', 'bob approved']);
    await post({ delete_original: true });
    expect(standin.workspace.messages('ops').map((x) => x.text)).toEqual(['bob approved']);
  });
});

describe('state events', () => {
  it('waitFor resolves on the change that satisfies it and times out otherwise', async () => {
    const seen: string[] = [];
    standin.workspace.on('message', (m) => seen.push(m.text));
    const waiting = standin.workspace.waitFor(() => standin.workspace.messages('ops').find((m) => m.text === 'two'), 2000);
    await client.chat.postMessage({ channel: 'C0OPS0001', text: 'one' });
    await client.chat.postMessage({ channel: 'C0OPS0001', text: 'two' });
    expect((await waiting).text).toBe('two');
    expect(seen).toEqual(['one', 'two']);
    await expect(standin.workspace.waitFor(() => false, 50)).rejects.toMatchObject({ code: 'TIMEOUT' });
    // The expectation is attached before the rejection can happen, so it is never unhandled.
    const throwing = expect(
      standin.workspace.waitFor(() => {
        if (standin.workspace.messages('ops').length > 2) throw new Error('bad predicate');
        return undefined;
      }, 2000),
    ).rejects.toThrow('bad predicate');
    await client.chat.postMessage({ channel: 'C0OPS0001', text: 'three' }); // still answered despite the throwing listener
    await throwing;
  });
});
