/**
 * The real entry point as a child process, in HTTP and in Socket Mode, against the Slack stand-in:
 * help, every command's validation errors, a retried or replayed delivery processed once, and (HTTP)
 * unsigned, badly signed, stale, future-dated and malformed requests refused with nothing done.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../bot/grammar/index.js';
import { SlackDriver } from '../../slack-standin/driver.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import { SIGNING_SECRET, startBot, type BotProcess } from '../helpers/bot-process.js';

const text = (ack: unknown) => JSON.stringify(ack ?? '');

describe.each(['http', 'socket'] as const)('the bot over %s', (mode) => {
  let standin: SlackStandin;
  let bot: BotProcess;
  let slack: SlackDriver;

  beforeAll(async () => {
    standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
    bot = await startBot({ mode, standin });
    slack = new SlackDriver(standin, mode === 'http' ? { kind: 'http', url: `http://127.0.0.1:${bot.port}/slack/events` } : { kind: 'socket' });
  });
  afterAll(async () => {
    const code = await bot?.stop();
    await standin?.stop();
    expect(code).toBe(0);
  });

  it('answers help for every family within the deadline', async () => {
    for (const family of ['/node', '/instance', '/volume', '/ip', '/op', '/schedule']) {
      const r = await slack.command({ user: 'alice', channel: 'ops', command: family, text: 'help' });
      expect(r.timedOut).toBe(false);
      expect(text(r.ackBody)).toContain(family);
    }
    const r = await slack.command({ user: 'alice', channel: 'ops', command: '/node', text: 'help drain' });
    expect(text(r.ackBody)).toMatch(/reason=/);
  });

  it('refuses a bad value or an unknown option for every command, naming it and showing the usage', async () => {
    for (const spec of COMMANDS) {
      const slash = `/${spec.family}`;
      const r = await slack.command({ user: 'alice', channel: 'ops', command: slash, text: `${spec.words.join(' ')} bogus=1` });
      expect(r.timedOut, spec.name).toBe(false);
      const body = text(r.ackBody);
      expect(body, spec.name).toContain('bogus');
      expect(body, spec.name).toContain('Usage');
    }
    const r = await slack.command({ user: 'alice', channel: 'ops', command: '/node', text: 'drain c01;reboot reason=x' });
    expect(text(r.ackBody)).toMatch(/host/);
    expect(standin.workspace.messages('ops')).toHaveLength(0); // nothing was posted to the channel
  });

  it('takes at= and in= (scheduled runs exist) and refuses an at= in the past before the ack, with nothing posted', async () => {
    for (const when of ['at=2099-12-01T02:00Z', 'in=2h']) {
      const r = await slack.command({ user: 'alice', channel: 'ops', command: '/node', text: `drain c01 reason=kernel-update ${when}` });
      expect(r.timedOut).toBe(false);
      expect(text(r.ackBody)).toContain(`Planning \`/node drain c01 reason=kernel-update ${when}\``);
      expect(text(r.ackBody)).not.toContain('not available');
    }
    const past = await slack.command({ user: 'alice', channel: 'ops', command: '/node', text: 'drain c01 reason=kernel-update at=2020-01-01T00:00Z' });
    expect(text(past.ackBody)).toMatch(/is not in the future \(now is /);
    expect(standin.workspace.messages('ops')).toHaveLength(0); // no cloud is configured here: nothing is planned or posted
  });

  it('processes a retried command once', async () => {
    const before = standin.workspace.ephemerals('alice').length;
    const first = await slack.command({ user: 'alice', channel: 'ops', command: '/op', text: 'list', triggerId: `trig-${mode}-1` });
    expect(text(first.ackBody)).toContain('/op list');
    await standin.workspace.waitFor(() => standin.workspace.ephemerals('alice').length >= before + 2, 10_000, 'the /op list answer');
    const again = await slack.command(
      { user: 'alice', channel: 'ops', command: '/op', text: 'list', triggerId: `trig-${mode}-1` },
      { retryNum: 1, retryReason: 'timeout' },
    );
    expect(again.timedOut).toBe(false);
    const count = standin.workspace.ephemerals('alice').length;
    // A third, distinct command proves the bot is still answering; the retry added nothing.
    await slack.command({ user: 'alice', channel: 'ops', command: '/op', text: 'list', triggerId: `trig-${mode}-2` });
    await standin.workspace.waitFor(() => standin.workspace.ephemerals('alice').length >= count + 2, 10_000, 'the second answer');
    expect(standin.workspace.ephemerals('alice').length).toBe(count + 2);
  });
});

describe('the HTTP receiver refuses what Slack would never send', () => {
  let standin: SlackStandin;
  let bot: BotProcess;
  let slack: SlackDriver;
  let url: string;

  beforeAll(async () => {
    standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
    bot = await startBot({ mode: 'http', standin });
    url = `http://127.0.0.1:${bot.port}`;
    slack = new SlackDriver(standin, { kind: 'http', url: `${url}/slack/events` });
  });
  afterAll(async () => {
    await bot?.stop();
    await standin?.stop();
  });

  it.each([
    { name: 'unsigned', opts: { signature: 'missing' as const }, status: 401 },
    { name: 'badly signed', opts: { signature: 'bad' as const }, status: 401 },
    { name: 'stale', opts: { timestampOffsetSec: -600 }, status: 401 },
    { name: 'future-dated', opts: { timestampOffsetSec: 600 }, status: 401 },
    { name: 'charset in the content type', opts: { contentType: 'application/x-www-form-urlencoded; charset=utf-8' }, status: 400 },
    { name: 'a malformed body', opts: { rawBody: 'command=%2Fnode&text=%E0%A4%A', contentType: 'application/json' }, status: 400 },
  ])('$name → $status, and nothing happens', async ({ opts, status }) => {
    const calls = standin.workspace.calls.length;
    const r = await slack.command({ user: 'alice', channel: 'ops', command: '/op', text: 'list' }, opts);
    expect(r.status).toBe(status);
    expect(standin.workspace.calls.length).toBe(calls);
    expect(standin.workspace.ephemerals('alice')).toHaveLength(0);
  });

  it('processes a replayed request once', async () => {
    const first = await slack.command({ user: 'bob', channel: 'ops', command: '/schedule', text: 'list' });
    expect(first.status).toBe(200);
    await standin.workspace.waitFor(() => standin.workspace.ephemerals('bob').length >= 2, 10_000, 'the answer');
    const replay = await slack.resend(first.request!);
    expect(replay.status).toBe(200);
    await slack.command({ user: 'bob', channel: 'ops', command: '/op', text: 'list' });
    await standin.workspace.waitFor(() => standin.workspace.ephemerals('bob').length >= 4, 10_000, 'the next answer');
    expect(standin.workspace.ephemerals('bob')).toHaveLength(4);
  });

  it('serves /healthz and /metrics', async () => {
    const h = await fetch(`${url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ status: 'ok', store: 'sqlite' });
    const m = await (await fetch(`${url}/metrics`)).text();
    expect(m).toMatch(/chatops_commands_total\{command="op.list",outcome="accepted"\} \d+/);
    expect(m).toMatch(/chatops_rejected_requests_total\{reason="future"\} 1/);
    expect(m).toMatch(/chatops_duplicate_deliveries_total\{kind="command"\} 1/);
  });
});
