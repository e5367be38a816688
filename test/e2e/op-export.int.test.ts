/**
 * `/op export` through the Slack stand-in: a finished run's post-mortem is uploaded into its thread
 * (files.getUploadURLExternal + upload + files.completeUploadExternal, as Slack does it) and the
 * uploaded file's content is checked. The scratch runbook stands in for `node.drain`; as
 * `instance.inspect` (the user-data class) its export is answered to the asker alone: no file, nothing
 * in the channel or the thread.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import type { Bot } from '../../compose/build-bot.js';
import type { SlackDriver } from '../../slack-standin/driver.js';
import { buttonsOf } from '../../slack-standin/payloads.js';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/store.js';
import { scratchRunbook, type ScratchDeps } from '../fixtures/runbooks/scratch-runbook.js';
import { sqliteScratch, type Scratch } from '../fixtures/runbooks/scratch-db.js';
import { SIGNING_SECRET } from '../helpers/bot-process.js';
import { startInProcessBot } from '../helpers/in-process-bot.js';

let standin: SlackStandin;
let store: Store;
let scratch: Scratch;
let bot: Bot<ScratchDeps>;
let slack: SlackDriver;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'export-'));
  standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
  store = await openStore({ kind: 'sqlite', path: join(dir, 'state.sqlite') });
  scratch = sqliteScratch(join(dir, 'scratch.sqlite'));
  ({ bot, slack } = await startInProcessBot<ScratchDeps>({
    standin,
    transport: 'http',
    store,
    runbooks: [
      { ...scratchRunbook, name: 'node.drain' } as never,
      // inspect's instance becomes the scratch run's host; the reason stays (user data needs one)
      {
        ...scratchRunbook,
        name: 'instance.inspect',
        input: z.object({ instance: z.string(), reason: z.string() }).transform((a) => ({ host: `vm-${a.instance.slice(0, 8)}`, reason: a.reason })),
      } as never,
    ],
    deps: { scratch },
    owner: 'export',
  }));
});
afterAll(async () => {
  await bot?.shutdown(5000);
  await store?.close();
  await scratch?.close();
  await standin?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('/op export of a finished drain: a Markdown file in its thread with who asked and approved, every step with its command and result', async () => {
  const ws = standin.workspace;
  await slack.command({ user: 'alice', channel: 'ops', command: '/node', text: 'drain x01 reason=maintenance' });
  await ws.waitFor(() => ws.messages('ops').length > 0, 10_000, 'the plan');
  const ts = ws.messages('ops').at(-1)!.ts;
  const card = () => ws.message('ops', ts)!;
  const opId = /op-[a-z2-7]{12}/.exec(JSON.stringify(card().blocks))![0];
  const approve = buttonsOf(card().blocks).find((b) => b.actionId === 'approval.approve')!;
  await slack.click({ user: 'bob', message: { channel: card().channel, ts }, actionId: 'approval.approve', value: approve.value! });
  await ws.waitFor(() => /succeeded/.test(card().text), 20_000, 'the run');

  await slack.command({ user: 'carol', channel: 'ops', command: '/op', text: `export ${opId}` });
  await ws.waitFor(() => ws.thread('ops', ts).some((m) => m.files?.length), 10_000, 'the uploaded file');
  const msg = ws.thread('ops', ts).find((m) => m.files?.length)!;
  expect(msg.text).toMatch(new RegExp(`Post-mortem of \`${opId}\`, asked by <@U0CAROL01>`));
  const file = ws.files.get(msg.files![0]!)!;
  expect(file.filename).toBe(`${opId}-post-mortem.md`);
  const md = ws.fileText(file.id)!;
  expect(ws.problems.filter((p) => p.kind === 'upload_length_mismatch')).toEqual([]);
  expect(Buffer.byteLength(md)).toBe(file.length);
  expect(md).toContain(`# Post-mortem: node.drain x01 (${opId})`);
  expect(md).toContain('- State: **succeeded**');
  expect(md).toMatch(/- Requested by alice \(U0ALICE01\) at \d{4}-/);
  expect(md).toMatch(/approved by bob \(U0BOB0001\) at \d{4}-/);
  for (const step of ['write-1', 'write-2', 'destroy', 'write-3', 'cleanup']) {
    expect(md).toMatch(new RegExp(`### \\d\\. .* \\(\`${step}\`, (change|destructive)\\)`));
  }
  expect(md).toContain('```\nINSERT INTO effects … write-1\n```');
  expect(md.match(/- attempt 1: started .* \*\*ok\*\*/g)).toHaveLength(5);
  expect(md).toMatch(/\| operation\.requested \| \/node drain x01 reason=maintenance \|/);
  expect(md).toMatch(/\| U0BOB0001@T\w+ \| approval\.approved \|/);
  expect(md).toMatch(/\| operation\.succeeded \|/);
  await ws.waitFor(
    () => ws.ephemerals('carol').some((e) => e.text.includes(`The post-mortem of \`${opId}\` is in its thread.`)),
    10_000,
    'the answer to carol',
  );
});

it('/op export of a user-data operation (instance.inspect): answered to the asker alone, no file, nothing in the channel or the thread', async () => {
  const ws = standin.workspace;
  const uuid = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
  const before = ws.messages('ops').length;
  await slack.command({ user: 'alice', channel: 'ops', command: '/instance', text: `inspect ${uuid} reason="INC-4711 recover config" path=/etc/fstab` });
  await ws
    .waitFor(() => ws.messages('ops').length > before, 10_000, 'the plan')
    .catch((e: Error) => {
      throw new Error(
        `${e.message}: ${ws
          .ephemerals('alice')
          .map((x) => x.text)
          .join('\n')}`,
      );
    });
  const ts = ws.messages('ops').at(-1)!.ts;
  const card = () => ws.message('ops', ts)!;
  const opId = /op-[a-z2-7]{12}/.exec(JSON.stringify(card().blocks))![0];
  expect((await store.listApprovals({ operationId: opId })).map((a) => a.kind)).toEqual(['user_data']);
  const approve = buttonsOf(card().blocks).find((b) => b.actionId === 'approval.approve')!;
  await slack.click({ user: 'bob', message: { channel: card().channel, ts }, actionId: 'approval.approve', value: approve.value! });
  await ws.waitFor(() => /succeeded/.test(card().text), 20_000, 'the run');
  // the thread has settled (the card's last edit and replies are in) before the export is asked for
  await new Promise((r) => setTimeout(r, 1500));

  const channelBefore = ws.messages('ops').map((m) => m.ts);
  const threadBefore = ws.thread('ops', ts).map((m) => `${m.ts} ${m.text}`);
  const filesBefore = ws.files.size;
  const callsBefore = ws.calls.length;
  const othersBefore = ['alice', 'bob', 'dave'].map((u) => ws.ephemerals(u).length);
  await slack.command({ user: 'carol', channel: 'ops', command: '/op', text: `export ${opId}` });
  await ws.waitFor(() => ws.ephemerals('carol').some((e) => e.text.includes(`Post-mortem of \`${opId}\``)), 10_000, 'the private answer to carol');
  const answer = ws.ephemerals('carol').find((e) => e.text.includes(`Post-mortem of \`${opId}\``))!;
  expect(answer.channel).toBe(ws.channel('ops')!.id);
  expect(answer.text).toContain('only you see it');
  // the whole post-mortem, not a clipped head: its last step is there
  expect(answer.text).toContain(`# Post-mortem: instance.inspect vm-0f1e2d3c (${opId})`);
  expect(answer.text).toMatch(/approved by bob \(U0BOB0001\) at \d{4}-/);
  expect(answer.text).toMatch(/### 5\. Clean up \(`cleanup`, change\)/);
  expect(answer.text).not.toContain('cut at Slack');
  // nothing anywhere else: no file, no message in the channel or the thread, no call that posts or uploads
  await new Promise((r) => setTimeout(r, 1000));
  expect(ws.files.size).toBe(filesBefore);
  expect(ws.messages('ops').map((m) => m.ts)).toEqual(channelBefore);
  expect(ws.thread('ops', ts).map((m) => `${m.ts} ${m.text}`)).toEqual(threadBefore);
  expect(
    ws.calls
      .slice(callsBefore)
      .map((c) => c.method)
      .filter((m) => /^(files\.|chat\.(postMessage|update|postEphemeral)$)/.test(m)),
  ).toEqual([]);
  expect(['alice', 'bob', 'dave'].map((u) => ws.ephemerals(u).length)).toEqual(othersBefore);
});
