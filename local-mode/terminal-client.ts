/**
 * Local mode's terminal: a person plays Slack users against the embedded stand-in. Lines starting
 * with a slash command go to the bot exactly as Slack would send them (through the driver); the
 * channel and its threads are printed as text as they change; buttons are pressed by number.
 */
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { SlackDriver } from '../slack-standin/driver.js';
import type { SlackStandin } from '../slack-standin/slack-standin.js';
import type { Ephemeral, Message, View } from '../slack-standin/workspace.js';
import { blocksToText, type TextButton } from './blocks-to-text.js';

interface Pressable extends TextButton {
  channel: string;
  ts: string;
  ephemeral: boolean;
}

export const LOCAL_HELP = `Local mode: you are a Slack user in #ops. Type a slash command as in Slack, e.g.
  /node help                      /node drain c01 reason=test
  /op list                        /ip check 192.0.2.10 port=22
Terminal commands:
  /as <user>       act as another person (alice, bob, carol, dave) — e.g. /as bob to approve
  /in <channel>    switch channel (ops, general)
  /press <n>       press button [n]; also just: <n>. A dialog (e.g. Reject's reason) takes the next line
  /thread <ts>     print a whole thread again        /who   users and groups
  /quit            stop the bot`;

export class TerminalClient {
  private user: string;
  private channel: string;
  private readonly buttons = new Map<number, Pressable>();
  private nextButton = 1;
  private rl?: Interface;
  /** A dialog the bot opened for the current person: the next plain line answers its first input. */
  private dialog?: View;

  constructor(
    private readonly standin: SlackStandin,
    private readonly driver: SlackDriver,
    private readonly io: { input: Readable; output: Writable },
    opts: { user?: string; channel?: string } = {},
  ) {
    this.user = opts.user ?? 'alice';
    this.channel = opts.channel ?? 'ops';
  }

  private get ws() {
    return this.standin.workspace;
  }

  private print(s: string): void {
    this.io.output.write(s.endsWith('\n') ? s : s + '\n');
  }

  private name = (id: string): string => this.ws.users.get(id)?.name ?? this.ws.usergroups.get(id)?.handle ?? id;

  private render(text: string, blocks: unknown[] | undefined, channel: string, ts: string, ephemeral: boolean): string {
    return blocksToText(
      text,
      blocks,
      (b) => {
        const n = this.nextButton++;
        this.buttons.set(n, { ...b, n, channel, ts, ephemeral });
        return n;
      },
      this.name,
    );
  }

  private show(m: Message, edited: boolean): void {
    const ch = this.ws.channels.get(m.channel);
    if (!ch || ch.name !== this.channel) return;
    const body = this.render(m.text, m.blocks, m.channel, m.ts, false);
    const who = this.name(m.user);
    const head = m.threadTs ? `  ↳ [thread ${m.threadTs}] ${who}` : `#${ch.name} ${who} (${m.ts})`;
    this.print(`${head}${edited ? ' (edited)' : ''}:\n${indent(body, m.threadTs ? '    ' : '  ')}`);
  }

  private showEphemeral(e: Ephemeral): void {
    const me = this.ws.user(this.user);
    if (!me || e.user !== me.id) return;
    this.print(`(only you see this) ${this.name(e.user)}:\n${indent(this.render(e.text, e.blocks, e.channel, e.ts, true), '  ')}`);
  }

  /** Runs until /quit or the end of input; lines are handled one after another, in order. */
  async start(): Promise<void> {
    this.ws.on('message', (m) => this.show(m, false));
    this.ws.on('update', (m) => this.show(m, true));
    this.ws.on('ephemeral', (e) => this.showEphemeral(e));
    this.ws.on('view', (v) => this.showView(v));
    this.print(LOCAL_HELP);
    this.rl = createInterface({ input: this.io.input, terminal: false });
    this.prompt();
    for await (const line of this.rl) {
      try {
        if (await this.handle(line.trim())) break;
      } catch (e) {
        this.print(`error: ${(e as Error).message}`);
      }
      this.prompt();
    }
    this.rl.close();
  }

  private prompt(): void {
    this.io.output.write(`${this.user}@#${this.channel}> `);
  }

  private showView(v: View): void {
    const me = this.ws.user(this.user);
    if (!me || v.user !== me.id) return;
    if (!v.open) {
      if (this.dialog?.id === v.id) this.dialog = undefined;
      return;
    }
    this.dialog = v;
    const title = (v.view.title as { text?: string } | undefined)?.text ?? 'Dialog';
    const errors = v.errors
      ? Object.values(v.errors)
          .map((e) => `  ! ${e}`)
          .join('\n') + '\n'
      : '';
    this.print(`[dialog] ${title}\n${errors}  Type your answer and press Enter (/cancel to close it).`);
  }

  /** The first input of the open dialog, answered with `text`. */
  private async answerDialog(text: string): Promise<void> {
    const v = this.dialog!;
    const input = ((v.view.blocks as { type?: string; block_id?: string; element?: { action_id?: string } }[]) ?? []).find((b) => b.type === 'input');
    if (!input?.block_id || !input.element?.action_id) return void this.print('this dialog has no input to answer');
    await this.driver.submitView({ user: this.user, viewId: v.id, values: { [input.block_id]: { [input.element.action_id]: text } } });
  }

  /** Handles one line; true when the person asked to quit. */
  async handle(line: string): Promise<boolean> {
    if (!line) return false;
    if (this.dialog && line === '/cancel') return (void (this.dialog = undefined), false);
    if (this.dialog && !line.startsWith('/')) return (void (await this.answerDialog(line)), false);
    const [word = '', ...rest] = line.split(/\s+/);
    const arg = rest.join(' ');
    if (word === '/quit' || word === '/exit') return true;
    if (word === '/help' || word === '?') return (void this.print(LOCAL_HELP), false);
    if (word === '/as') {
      const u = this.ws.user(arg);
      if (!u || u.isBot) return (void this.print(`no such person "${arg}"; try: ${this.people()}`), false);
      this.user = u.name;
      return (void this.print(`you are now ${u.name} (${u.id})`), false);
    }
    if (word === '/in') {
      const c = this.ws.channel(arg);
      if (!c) return (void this.print(`no such channel "${arg}"`), false);
      this.channel = c.name;
      return false;
    }
    if (word === '/who') {
      this.print(`people: ${this.people()}`);
      for (const g of this.ws.usergroups.values()) this.print(`group @${g.handle} (${g.id}): ${g.users.map(this.name).join(', ')}`);
      return false;
    }
    if (word === '/thread') {
      const c = this.ws.channel(this.channel)!;
      const msgs = this.ws.thread(c.id, arg);
      if (!msgs.length) return (void this.print(`no thread ${arg} in #${this.channel}`), false);
      for (const m of msgs) this.show(m, false);
      return false;
    }
    if (word === '/press' || /^\d+$/.test(word)) {
      const n = Number(word === '/press' ? rest[0] : word);
      return (void (await this.press(n)), false);
    }
    if (word.startsWith('/')) {
      const r = await this.driver.command({ user: this.user, channel: this.channel, command: word, text: arg });
      if (r.timedOut) this.print('(the bot did not acknowledge within 3 seconds: Slack would show an error)');
      return false;
    }
    this.print('Type a slash command (e.g. /node help), /help for terminal commands.');
    return false;
  }

  private async press(n: number): Promise<void> {
    const b = this.buttons.get(n);
    if (!b) return void this.print(`no button [${n}]`);
    const r = await this.driver.click({
      user: this.user,
      message: { channel: b.channel, ts: b.ts, ...(b.ephemeral ? { ephemeral: true } : {}) },
      actionId: b.actionId,
      ...(b.blockId ? { blockId: b.blockId } : {}),
      value: b.value,
    });
    if (r.timedOut) this.print('(the bot did not acknowledge within 3 seconds)');
  }

  private people(): string {
    return [...this.ws.users.values()]
      .filter((u) => !u.isBot)
      .map((u) => u.name)
      .join(', ');
  }
}

function indent(s: string, pad: string): string {
  return s
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}
