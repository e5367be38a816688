/**
 * `/instance inspect` end to end: the bot as an operator runs it (bot/main.ts) against the Slack
 * stand-in, reading a real QEMU guest's disk on the lab's libvirt host c03. User-data approval
 * (the requester and an ordinary approver refused, the user-data approver accepted), the content
 * only in the requester's ephemeral reply, path/size/SHA-256 in the thread; symlinks pointing out
 * of the guest not followed; a failed mount. After every run: the domain running, nothing mounted,
 * no loop device, export or work directory left on c03, the instance ACTIVE in Nova.
 */
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SlackStandin } from '../../slack-standin/slack-standin.js';
import type { SlackDriver } from '../../slack-standin/driver.js';
import { openStore } from '../../store/open-store.js';
import { SIGNING_SECRET, type BotProcess } from '../helpers/bot-process.js';
import { cleanup, requireLab, uniquePrefix } from '../lab/lab-helpers.js';
import { NOTES, NOTES_SHA256, askInspect, bootGuest, clickApprove, endOf, leftOnNode, novaStatus, startInspectBot, type Guest } from './inspect-lab.js';

const P = uniquePrefix('insp');

describe('/instance inspect on the libvirt host c03', () => {
  let standin: SlackStandin;
  let bot: BotProcess;
  let slack: SlackDriver;
  let guest: Guest;
  let blank: Guest;
  const dir = mkdtempSync(join(tmpdir(), 'inspect-lab-'));
  const ws = () => standin.workspace;
  /** Everything anyone but the requester could see: channel messages, thread replies, other people's ephemerals. */
  const publicText = () =>
    JSON.stringify([
      ...ws().messages('ops'),
      ...ws()
        .messages('ops')
        .flatMap((m) => ws().thread('ops', m.ts)),
      ...['bob', 'carol', 'dave'].flatMap((u) => ws().ephemerals(u)),
    ]);

  /** alice asks, dave (the user-data approver) approves; resolves with the finished card and the thread. */
  async function inspect(text: string) {
    const { ts, opId } = await askInspect(standin, slack, text);
    await clickApprove(standin, slack, ts, 'dave');
    await ws()
      .waitFor(() => endOf(standin, ts), 120_000, `${text} to finish`)
      .catch((e: Error) => {
        const story = ws()
          .thread('ops', ts)
          .map((m) => m.text)
          .join('\n');
        throw new Error(`${e.message}\ncard: ${ws().message('ops', ts)!.text}\nthread:\n${story}\nbot:\n${bot.output().slice(-3000)}`);
      });
    const thread = ws()
      .thread('ops', ts)
      .map((m) => `${m.text} ${JSON.stringify(m.blocks ?? [])}`)
      .join('\n');
    return { ts, opId, end: endOf(standin, ts), thread };
  }

  beforeAll(async () => {
    await requireLab(['c03']); // c03 only: c01/c02 belong to the other lock
    [guest, blank] = await Promise.all([bootGuest(`${P}guest`), bootGuest(`${P}blank`, 'cirros')]);
    standin = await new SlackStandin({ signingSecret: SIGNING_SECRET }).start();
    ({ bot, slack } = await startInspectBot(standin, dir));
  }, 300_000);

  afterEach(async () => {
    // Every run, whatever its outcome, leaves c03 as it found it.
    for (const g of [guest, blank]) {
      if (!g) continue;
      expect(await leftOnNode(g.domain), g.domain).toEqual([]);
      expect(await novaStatus(g.id)).toBe('ACTIVE');
    }
  });

  afterAll(async () => {
    await bot?.stop('SIGTERM');
    await standin?.stop();
    await cleanup(P);
  }, 300_000);

  it('needs the user-data approver: the requester and an ordinary approver are refused; the file reaches only the requester', async () => {
    const { ts, opId } = await askInspect(standin, slack, `inspect ${guest.id} reason="INC-13 read notes" path=/home/ubuntu/notes.txt`);
    const plan = ws().message('ops', ts)!;
    expect(JSON.stringify(plan.blocks)).toMatch(/virsh suspend/);
    expect(JSON.stringify(plan.blocks)).toMatch(/force-share=on/);

    await clickApprove(standin, slack, ts, 'alice');
    await ws().waitFor(
      () =>
        ws()
          .ephemerals('alice')
          .some((e) => /asked for this; someone else must decide/.test(e.text)),
      30_000,
      'alice refused',
    );
    await clickApprove(standin, slack, ts, 'bob');
    await ws().waitFor(
      () =>
        ws()
          .ephemerals('bob')
          .some((e) => /may not approve instance\.inspect/.test(e.text)),
      30_000,
      'bob refused',
    );
    const store = await openStore({ kind: 'sqlite', path: join(dir, 'state.sqlite') });
    try {
      expect((await store.getOperation(opId))!.state).toBe('pending_approval');
    } finally {
      await store.close();
    }

    await clickApprove(standin, slack, ts, 'dave');
    await ws().waitFor(() => endOf(standin, ts), 120_000, 'the inspection to finish');
    expect(endOf(standin, ts)).toBe('succeeded');

    const mine = ws()
      .ephemerals('alice')
      .filter((e) => e.text.includes(NOTES.trim()));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.channel).toBe('C0OPS0001');
    expect(mine[0]!.text).toContain(NOTES_SHA256);
    expect(publicText()).not.toContain(NOTES.trim());
    const thread = ws()
      .thread('ops', ts)
      .map((m) => m.text)
      .join('\n');
    expect(thread).toContain('/home/ubuntu/notes.txt');
    expect(thread).toContain(NOTES_SHA256);
    expect(thread).toMatch(/<@U0ALICE01> read .*51 bytes/);
  });

  it('lists a directory for the requester; symlinks in it are shown, not followed', async () => {
    const before = ws().ephemerals('alice').length;
    const r = await inspect(`inspect ${guest.id} reason="INC-13 list home" path=/home/ubuntu`);
    expect(r.end).toBe('succeeded');
    const listing = ws()
      .ephemerals('alice')
      .slice(before)
      .find((e) => /directory, 7 entries/.test(e.text));
    expect(listing?.text).toMatch(/notes\.txt/);
    expect(listing?.text).toMatch(/shadow-link \(symlink, not followed\)/);
    expect(listing?.text).toMatch(/docs\//);
    expect(r.thread).toMatch(/listed `\/home\/ubuntu`.*7 entries/);
    expect(publicText()).not.toContain('notes-link');
  });

  it('never follows a symlink out of the guest (absolute, climbing, or a directory in the middle)', async () => {
    const nodeShadow = readFileSync('/etc/shadow', 'utf8').split('\n')[0]!;
    for (const path of ['/home/ubuntu/shadow-link', '/home/ubuntu/escape-link', '/home/ubuntu/etc-dir/shadow']) {
      const before = ws().ephemerals('alice').length;
      const r = await inspect(`inspect ${guest.id} reason="INC-13 symlink" path=${path}`);
      expect(r.end, path).toBe('failed');
      expect(r.thread, path).toMatch(/symlinks are never followed/);
      const seen = JSON.stringify(ws().ephemerals('alice').slice(before)) + publicText();
      expect(seen).not.toContain(nodeShadow);
      expect(seen).not.toContain('notarealhash'); // not even the guest's own shadow through the link
    }
  });

  it('a mount that fails (a disk without a file system) is reported, and the clean-up still runs', async () => {
    const r = await inspect(`inspect ${blank.id} reason="INC-13 blank disk" path=/`);
    expect(r.end).toBe('failed');
    expect(r.thread).toMatch(/mount/);
    expect(r.thread).not.toMatch(/listed/);
  });

  it('refuses what cannot be read, saying why, before anything is asked', async () => {
    const before = ws().ephemerals('alice').length;
    await slack.command({ user: 'alice', channel: 'ops', command: '/instance', text: `inspect ${guest.id} reason="INC-13 second disk" device=disk.local` });
    await ws().waitFor(
      () =>
        ws().ephemerals('alice').length > before + 1 ||
        ws()
          .ephemerals('alice')
          .slice(before)
          .some((e) => /has no disk\.local/.test(e.text)),
      60_000,
      'the refusal',
    );
    expect(
      ws()
        .ephemerals('alice')
        .slice(before)
        .map((e) => e.text)
        .join('\n'),
    ).toMatch(/has no disk\.local on c03 \(its disks: vda → \/var\/lib\/nova\/instances-c03\//);
  });
});
