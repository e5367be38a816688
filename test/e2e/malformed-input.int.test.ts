/**
 * Issue 16, reproduced against the real entry point as a child process: a correctly signed
 * `payload=null` used to end the process (Bolt read `body.ssl_check` of null outside its own error
 * handling), and a signed `view_submission` with an empty view was answered 500. Both are now 400
 * with the process still serving, in HTTP and in Socket Mode; bodies over the limit are 413; and the
 * last line of defence answers a failure inside a request (500, or an acknowledged envelope), logs it
 * with the request's kind and id and counts it, while a failure outside any request still ends the
 * process, which then starts again on the same store.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackDriver } from '../../slack-standin/driver.js';
import { buildCommand } from '../../slack-standin/payloads.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import { SIGNING_SECRET, startBot, type BotProcess } from '../helpers/bot-process.js';
import { counter, formPayload, postSigned, sendFrame } from '../helpers/raw-deliveries.js';

const FAULTS = { CHATOPS_REQUEST_FAULTS: '1' };

/** The bot's JSON log records with message `msg`. */
function logRecords(bot: BotProcess, msg: string): Record<string, unknown>[] {
  return bot
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes(msg))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const FAULT_LOG = 'unexpected failure inside a request';
const viewWithoutAnything = JSON.stringify({ type: 'view_submission', view: {} });

describe('malformed input over HTTP', () => {
  let standin: SlackStandin;
  let bot: BotProcess;
  let url: string;
  const post = (body: string, contentType?: string) => postSigned(url, body, { secret: standin.signingSecret, ...(contentType ? { contentType } : {}) });

  beforeAll(async () => {
    standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
    bot = await startBot({ mode: 'http', standin, env: FAULTS });
    url = `http://127.0.0.1:${bot.port}/slack/events`;
  });
  afterAll(async () => {
    const code = await bot?.stop();
    await standin?.stop();
    expect(code).toBe(0);
  });

  /** The process answers and a real command still works. */
  async function stillServing(): Promise<void> {
    expect(bot.child.exitCode).toBeNull();
    expect((await fetch(`http://127.0.0.1:${bot.port}/healthz`)).status).toBe(200);
    const slack = new SlackDriver(standin, { kind: 'http', url });
    const r = await slack.command({ user: 'alice', channel: 'ops', command: '/op', text: 'help' });
    slack.close();
    expect(r.status).toBe(200);
    expect(JSON.stringify(r.ackBody)).toContain('/op');
  }

  it('issue 16: a signed payload=null is answered 400 naming the payload, and the bot keeps running', async () => {
    const r = await post('payload=null');
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/payload: expected a JSON object .*got null/);
    await stillServing();
    expect(await counter(bot.port!, 'chatops_malformed_deliveries_total', 'transport="http",reason="not_an_object"')).toBe(1);
  });

  it('issue 16: a signed view_submission with an empty view is answered 400, not 500', async () => {
    const r = await post(formPayload(viewWithoutAnything));
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/^payload\.(user|view\.\w+): /);
    const noState = {
      type: 'view_submission',
      user: { id: 'U0ALICE01', team_id: 'T0CHATOPS' },
      team: { id: 'T0CHATOPS' },
      view: { id: 'V1', callback_id: 'approval.reject' },
    };
    const r2 = await post(formPayload(JSON.stringify(noState)));
    expect(r2.status).toBe(400);
    expect(r2.text).toMatch(/^payload\.view\.state: /);
    await stillServing();
  });

  it.each([
    ['a JSON array', '[]', 'payload: expected a JSON object'],
    ['a number', '42', 'payload: expected a JSON object'],
    ['no type', '{}', 'payload.type: missing'],
    ['an unknown type', '{"type":"message_action"}', 'payload.type: "message_action"'],
    ['block_actions without actions', '{"type":"block_actions","user":{"id":"U0ALICE01"},"container":{}}', 'payload.actions: '],
    [
      'block_actions without a user',
      '{"type":"block_actions","container":{},"actions":[{"action_id":"approval.approve","block_id":"b","type":"button"}]}',
      'payload.user: ',
    ],
    ['broken JSON', '{"type":', 'could not parse the payload field as JSON'],
  ])('%s in the payload: 400 saying what is wrong', async (_name, json, expected) => {
    const r = await post(formPayload(json));
    expect(r.status).toBe(400);
    expect(r.text).toContain(expected);
  });

  it('found by the fuzz test: a reject dialog whose private metadata is not JSON fails as a dialog, not inside the error path', async () => {
    const view = {
      type: 'view_submission',
      user: { id: 'U0DAVE001', name: 'dave', team_id: 'T0CHATOPS' },
      team: { id: 'T0CHATOPS' },
      view: {
        id: 'V0META0001',
        callback_id: 'approval.reject',
        private_metadata: 'ap-aaaaaaaaaaaa|0',
        state: { values: { reason: { reason: { type: 'plain_text_input', value: 'because' } } } },
      },
    };
    const r = await post(formPayload(JSON.stringify(view)));
    expect(r.status).toBe(200);
    await bot.waitForOutput(/"msg":"dialog failed"/);
    expect(await counter(bot.port!, 'chatops_request_faults_total', 'transport="http",kind="view_submission"')).toBe(0);
  });

  it('a slash command with an oversized text field: 400 naming the field', async () => {
    const fields = buildCommand(standin, { user: 'alice', channel: 'ops', command: '/node', text: 'x'.repeat(300_000) }).payload as Record<string, string>;
    const r = await post(new URLSearchParams(fields).toString());
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/^body\.text: expected at most 4000 characters/);
  });

  it('a body over 1 MiB: 413, nothing posted to Slack', async () => {
    const calls = standin.workspace.calls.length;
    const r = await post(`payload=${'a'.repeat(1024 * 1024 + 1)}`);
    expect(r.status).toBe(413);
    expect(r.text).toMatch(/at most 1048576 bytes/);
    expect(standin.workspace.calls.length).toBe(calls);
    await stillServing();
  });

  it('bodies over 1 MiB still being written when the bot decides: the client reads the 413, not a broken pipe', async () => {
    // The bot knows from the header that the body is too large long before its last byte; answering
    // and closing then cuts the client's write (EPIPE / ECONNRESET) and it never reads the answer.
    const answers = [];
    for (const mib of [1.1, 2, 4, 6, 1.1, 2, 4, 6])
      answers.push(await postSigned(url, `payload=${'a'.repeat(Math.round(mib * 1024 * 1024))}`, { secret: standin.signingSecret, deadlineMs: 10_000 }));
    expect(answers.map((r) => `${r.status} ${r.text.trim()}`)).toEqual(answers.map(() => '413 request body: expected at most 1048576 bytes'));
    await stillServing();
  });

  it('unsigned malformed bodies are still Bolt’s 401 (no shape is revealed before the signature)', async () => {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'payload=null' });
    expect(r.status).toBe(401);
  });

  it.each(['throw', 'reject', 'timer'] as const)(
    'a deliberate failure inside a request (%s): 500, logged with kind and id, counted, still serving',
    async (mode) => {
      const before = await counter(bot.port!, 'chatops_request_faults_total', 'transport="http",kind="command"');
      const fields = buildCommand(standin, { user: 'alice', channel: 'ops', command: '/op', text: `__fault__ ${mode}` }).payload as Record<string, string>;
      const r = await post(new URLSearchParams(fields).toString());
      expect(r.status).toBe(500);
      expect(r.text).toMatch(/internal error while handling request http-\d+/);
      expect(await counter(bot.port!, 'chatops_request_faults_total', 'transport="http",kind="command"')).toBe(before + 1);
      await bot.waitForOutput(new RegExp(`deliberate request fault \\(${mode}\\)`));
      const logged = logRecords(bot, FAULT_LOG).find((l) => JSON.stringify(l.err ?? '').includes(`deliberate request fault (${mode})`));
      expect(logged?.request).toMatchObject({ transport: 'http', kind: 'command', id: expect.stringMatching(/^http-\d+$/), deliveryId: fields.trigger_id });
      await stillServing();
    },
  );
});

describe('malformed input over Socket Mode', () => {
  let standin: SlackStandin;
  let bot: BotProcess;
  const envelope = (type: unknown, payload: unknown, id: string = randomUUID()) => ({
    id,
    frame: JSON.stringify({ envelope_id: id, type, payload, accepts_response_payload: true }),
  });

  beforeAll(async () => {
    standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
    bot = await startBot({ mode: 'socket', standin, env: FAULTS });
  });
  afterAll(async () => {
    const code = await bot?.stop();
    await standin?.stop();
    expect(code).toBe(0);
  });

  async function stillServing(): Promise<void> {
    expect(bot.child.exitCode).toBeNull();
    expect((await fetch(`http://127.0.0.1:${bot.port}/healthz`)).status).toBe(200);
    const r = await new SlackDriver(standin, { kind: 'socket' }).command({ user: 'alice', channel: 'ops', command: '/op', text: 'help' });
    expect(r.timedOut).toBe(false);
    expect(JSON.stringify(r.ackBody)).toContain('/op');
  }

  it('issue 16: an interactive envelope whose payload is null is acknowledged, logged and counted; the bot keeps running', async () => {
    const { id, frame } = envelope('interactive', null);
    const ack = await sendFrame(standin, frame, id);
    expect(ack.timedOut).toBe(false);
    await stillServing();
    expect(await counter(bot.port!, 'chatops_malformed_deliveries_total', 'transport="socket",reason="not_an_object"')).toBe(1);
    await bot.waitForOutput(new RegExp(`"id":"${id}"`));
    expect(logRecords(bot, 'acknowledged and dropped a malformed envelope').at(-1)).toMatchObject({
      request: { transport: 'socket', id },
      problem: expect.stringContaining('got null'),
    });
  });

  it('issue 16: a view_submission with an empty view is acknowledged and dropped', async () => {
    const { id, frame } = envelope('interactive', JSON.parse(viewWithoutAnything));
    expect((await sendFrame(standin, frame, id)).timedOut).toBe(false);
    await stillServing();
  });

  it('frames the Socket Mode client itself would trip on: null, an "error" type, an events_api envelope without an event', async () => {
    await sendFrame(standin, 'null');
    await sendFrame(standin, '"hello"');
    await sendFrame(standin, 'not json at all');
    for (const { id, frame } of [envelope('error', {}), envelope('events_api', {}), envelope('slash_commands', { command: '/op' }), envelope(7, null)]) {
      expect((await sendFrame(standin, frame, id)).timedOut, frame).toBe(false);
    }
    await stillServing();
    expect(await counter(bot.port!, 'chatops_malformed_deliveries_total', 'transport="socket",reason="bad_envelope"')).toBeGreaterThanOrEqual(4);
  });

  it.each(['throw', 'reject', 'timer'] as const)(
    'a deliberate failure inside a request (%s): the envelope is acknowledged, logged with kind and id, counted',
    async (mode) => {
      const before = await counter(bot.port!, 'chatops_request_faults_total', 'transport="socket",kind="command"');
      const payload = buildCommand(standin, { user: 'alice', channel: 'ops', command: '/op', text: `__fault__ ${mode}` }).payload;
      const { id, frame } = envelope('slash_commands', payload);
      expect((await sendFrame(standin, frame, id)).timedOut).toBe(false);
      expect(await counter(bot.port!, 'chatops_request_faults_total', 'transport="socket",kind="command"')).toBe(before + 1);
      await bot.waitForOutput(new RegExp(`"id":"${id}"`));
      expect(logRecords(bot, FAULT_LOG).at(-1)?.request).toMatchObject({ transport: 'socket', kind: 'command', id });
      await stillServing();
    },
  );
});

describe('a failure outside any request', () => {
  it('still ends the process (exit 1, said on stderr); started again on the same store, it serves', async () => {
    const standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
    const dir = mkdtempSync(join(tmpdir(), 'chatops-outside-'));
    try {
      const bot = await startBot({ mode: 'http', standin, env: FAULTS, dir });
      const url = `http://127.0.0.1:${bot.port}/slack/events`;
      const fields = buildCommand(standin, { user: 'alice', channel: 'ops', command: '/op', text: '__fault__ outside' }).payload as Record<string, string>;
      const r = await postSigned(url, new URLSearchParams(fields).toString(), { secret: standin.signingSecret });
      expect(r.status).toBe(200); // the request itself was fine
      await bot.waitForOutput(/outside any request; the process ends/, 10_000);
      expect(await bot.stop()).toBe(1);
      const again = await startBot({ mode: 'http', standin, dir });
      expect((await fetch(`http://127.0.0.1:${again.port}/healthz`)).status).toBe(200);
      expect(await again.stop()).toBe(0);
    } finally {
      await standin.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
