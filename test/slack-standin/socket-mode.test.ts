import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SlackDriver } from '../../slack-standin/driver.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import { BOT } from '../../slack-standin/workspace.js';

// The stand-in's Socket Mode seen from a bare `ws` client, so every frame is visible.
let standin: SlackStandin;
const sockets: WebSocket[] = [];

async function openUrl(token: string): Promise<string> {
  const res = await fetch(`${standin.apiUrl}apps.connections.open`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
  return ((await res.json()) as { url: string }).url;
}

/** Connects and collects frames; `next()` resolves with the next frame (or one already received). */
async function connect(url: string) {
  const ws = new WebSocket(url);
  sockets.push(ws);
  const frames: Record<string, unknown>[] = [];
  const waiting: ((f: Record<string, unknown>) => void)[] = [];
  ws.on('message', (d) => {
    const f = JSON.parse(String(d)) as Record<string, unknown>;
    const w = waiting.shift();
    if (w) w(f);
    else frames.push(f);
  });
  await once(ws, 'open');
  const next = () => new Promise<Record<string, unknown>>((resolve) => (frames.length ? resolve(frames.shift()!) : waiting.push(resolve)));
  return { ws, next };
}

beforeEach(async () => {
  standin = await new SlackStandin({ ackDeadlineMs: 1000 }).start();
});
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await standin.stop();
});

describe('Socket Mode, frame by frame', () => {
  it('says hello with the app id, and a ticket opens one connection only', async () => {
    const url = await openUrl(standin.appToken);
    const { next } = await connect(url);
    expect(await next()).toMatchObject({ type: 'hello', connection_info: { app_id: BOT.appId } });
    const again = new WebSocket(url);
    const [, res] = (await once(again, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(res.statusCode).toBe(401);
  });

  it('matches acks by envelope_id, ignores others, and records a late ack', async () => {
    const { ws, next } = await connect(await openUrl(standin.appToken));
    await next(); // hello
    const driver = new SlackDriver(standin, { kind: 'socket' });

    const acked = driver.command({ user: 'alice', channel: '#ops', command: '/node', text: 'help' });
    const env = await next();
    expect(env).toMatchObject({ type: 'slash_commands', accepts_response_payload: true, payload: { command: '/node', text: 'help', user_name: 'alice' } });
    ws.send(JSON.stringify({ envelope_id: 'not-this-one', payload: { text: 'wrong' } }));
    ws.send(JSON.stringify({ envelope_id: env.envelope_id, payload: { text: 'usage: /node …' } }));
    expect(await acked).toMatchObject({ timedOut: false, ackBody: { text: 'usage: /node …' } });
    expect(standin.workspace.ephemerals('alice').map((e) => e.text)).toEqual(['usage: /node …']);

    const late = await Promise.all([driver.command({ user: 'alice', channel: '#ops', command: '/node', text: 'x' }), next()]);
    expect(late[0].timedOut).toBe(true);
    expect(standin.workspace.problems.map((p) => p.kind)).toEqual(['ack_timeout']);
    ws.send(JSON.stringify({ envelope_id: late[1].envelope_id, payload: {} }));
    await standin.workspace.waitFor(() => standin.workspace.problems.some((p) => p.kind === 'late_ack'));
  });

  it('sends disconnect messages and notices dropped sockets', async () => {
    const { ws, next } = await connect(await openUrl(standin.appToken));
    await next();
    standin.disconnectSockets('warning');
    expect(await next()).toMatchObject({ type: 'disconnect', reason: 'warning' });
    const closed = once(ws, 'close');
    standin.dropSockets();
    await closed;
    await standin.workspace.waitFor(() => standin.sockets.connections === 0);
  });

  it('reports a delivery with no connection as timed out and as a problem', async () => {
    const r = await new SlackDriver(standin, { kind: 'socket', connectWaitMs: 50 }).command({ user: 'bob', channel: '#ops', command: '/node' });
    expect(r.timedOut).toBe(true);
    expect(standin.workspace.problems.map((p) => p.kind)).toEqual(['no_connection']);
  });
});
