import { EventEmitter } from 'node:events';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { TimeoutError } from '../core/errors.js';

/** A workspace member. `name` is the handle (`alice`), as in `user_name` of slash commands. */
export interface User {
  id: string;
  name: string;
  realName: string;
  isBot: boolean;
}
export interface Channel {
  id: string;
  name: string;
  isPrivate: boolean;
  members: string[];
}
export interface Usergroup {
  id: string;
  handle: string;
  name: string;
  users: string[];
}

/** A message as the stand-in stores it; `edits` keeps what each `chat.update` replaced, oldest first. */
export interface Message {
  channel: string;
  ts: string;
  /** Parent's ts for thread replies; absent for top-level messages. */
  threadTs?: string;
  user: string;
  botId?: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  metadata?: unknown;
  /** Ids of files shared with this message (files.completeUploadExternal); see `Workspace.files`. */
  files?: string[];
  replyBroadcast: boolean;
  edits: { text: string; blocks?: unknown[]; at: number }[];
  deleted: boolean;
  /** How it got there: a Web API call, a `response_url` post, or an acknowledgement body. */
  via: 'api' | 'response_url' | 'ack';
}

/** A message only `user` sees; never stored in the channel history. */
export interface Ephemeral {
  channel: string;
  user: string;
  ts: string;
  threadTs?: string;
  text: string;
  blocks?: unknown[];
  via: Message['via'];
}

/** One Web API call as received, with what the stand-in answered. */
export interface CallRecord {
  /** Web API method name, or `response_url` for posts to a response URL. */
  method: string;
  /** Arguments as received (form values are strings; `token` removed). */
  args: Record<string, unknown>;
  token?: string;
  /** Stand-in clock time (ms). */
  at: number;
  /** HTTP status answered (200, 429, 5xx; 404/400 for refused response_url posts). */
  status: number;
  result: Record<string, unknown>;
}

/** Something a test should look at: an unknown method, a missed ack deadline, blocks without fallback text… */
export interface Problem {
  kind: 'unknown_method' | 'ack_timeout' | 'late_ack' | 'missing_text' | 'no_connection' | 'response_url_refused' | 'upload_length_mismatch';
  detail: string;
  at: number;
}

/** One uploaded file (files.ts: files.getUploadURLExternal, the upload, files.completeUploadExternal). */
export interface StoredFile {
  id: string;
  filename: string;
  /** The length announced in files.getUploadURLExternal. */
  length: number;
  title?: string;
  content?: Buffer;
  /** Set once completed into a channel (absent: completed privately, or not completed). */
  channel?: string;
  threadTs?: string;
  completed: boolean;
}

/** A modal opened by the bot for `user`; `view` is the JSON as last set, `errors` from a refused submission. */
export interface View {
  id: string;
  user: string;
  view: Record<string, unknown>;
  open: boolean;
  errors?: Record<string, string>;
}

export interface WorkspaceEvents {
  message: [Message];
  update: [Message];
  ephemeral: [Ephemeral];
  view: [View];
  call: [CallRecord];
  problem: [Problem];
  /** Any change at all; `waitFor` listens to this. */
  change: [];
}

/** Identity of the workspace and the app installed in it. */
export const TEAM = { id: 'T0CHATOPS', domain: 'chatops-local', name: 'ChatOps Local' } as const;
export const BOT = { userId: 'U0BOT0001', botId: 'B0BOT0001', appId: 'A0CHATOPS', name: 'openstack-ops' } as const;

/**
 * The stand-in's whole observable state: people, channels, user groups, messages, threads,
 * ephemerals, the Web API call log and problems. Every change emits an event, so tests and the local
 * terminal client wait on events (`waitFor`) instead of polling.
 */
export class Workspace extends EventEmitter<WorkspaceEvents> {
  readonly users = new Map<string, User>();
  readonly channels = new Map<string, Channel>();
  readonly usergroups = new Map<string, Usergroup>();
  readonly calls: CallRecord[] = [];
  readonly problems: Problem[] = [];
  readonly views = new Map<string, View>();
  /** Uploaded files by id (files.ts). */
  readonly files = new Map<string, StoredFile>();
  /** trigger_ids handed out with interactions: who, when, and whether a view was opened with it. */
  readonly triggers = new Map<string, { user: string; at: number; used: boolean }>();
  private readonly history = new Map<string, Message[]>();
  private readonly ephemeralList: Ephemeral[] = [];
  private lastTsMicros = 0;

  constructor(readonly clock: Clock = systemClock) {
    super();
    this.setMaxListeners(0); // every pending waitFor listens to 'change'
    this.addUser({ id: BOT.userId, name: BOT.name, realName: 'OpenStack Ops', isBot: true });
    for (const [id, name] of [
      ['U0ALICE01', 'alice'],
      ['U0BOB0001', 'bob'],
      ['U0CAROL01', 'carol'],
      ['U0DAVE001', 'dave'],
    ] as const) {
      this.addUser({ id, name, realName: name[0]!.toUpperCase() + name.slice(1), isBot: false });
    }
    const everyone = [...this.users.keys()];
    this.addChannel({ id: 'C0OPS0001', name: 'ops', isPrivate: false, members: everyone });
    this.addChannel({ id: 'C0GENERAL', name: 'general', isPrivate: false, members: everyone });
    this.addUsergroup({ id: 'S0APPROVE', handle: 'approvers', name: 'Compute approvers', users: ['U0BOB0001', 'U0CAROL01'] });
  }

  addUser(u: User): User {
    this.users.set(u.id, u);
    this.emit('change');
    return u;
  }
  addChannel(c: Channel): Channel {
    this.channels.set(c.id, c);
    this.history.set(c.id, []);
    this.emit('change');
    return c;
  }
  addUsergroup(g: Usergroup): Usergroup {
    this.usergroups.set(g.id, g);
    this.emit('change');
    return g;
  }

  /** A user by id, handle or `@handle`. */
  user(ref: string): User | undefined {
    const name = ref.replace(/^@/, '');
    return this.users.get(ref) ?? [...this.users.values()].find((u) => u.name === name);
  }
  /** A channel by id, name or `#name`. */
  channel(ref: string): Channel | undefined {
    const name = ref.replace(/^#/, '');
    return this.channels.get(ref) ?? [...this.channels.values()].find((c) => c.name === name);
  }
  usergroup(ref: string): Usergroup | undefined {
    return this.usergroups.get(ref) ?? [...this.usergroups.values()].find((g) => g.handle === ref.replace(/^@/, ''));
  }

  /** A fresh message timestamp, strictly increasing, in Slack's `seconds.micros` form. */
  nextTs(): string {
    this.lastTsMicros = Math.max(this.lastTsMicros + 1, this.clock.now() * 1000);
    const s = String(this.lastTsMicros);
    return `${s.slice(0, -6)}.${s.slice(-6)}`;
  }

  /** Top-level messages of a channel (and replies broadcast to it), oldest first. */
  messages(channelRef: string): Message[] {
    return this.all(channelRef).filter((m) => !m.deleted && (m.threadTs === undefined || m.replyBroadcast));
  }
  /** A thread: the parent first, then its replies, oldest first. Empty when the parent is unknown. */
  thread(channelRef: string, ts: string): Message[] {
    const all = this.all(channelRef).filter((m) => !m.deleted);
    const parent = all.find((m) => m.ts === ts && m.threadTs === undefined);
    return parent ? [parent, ...all.filter((m) => m.threadTs === ts)] : [];
  }
  message(channelRef: string, ts: string): Message | undefined {
    return this.all(channelRef).find((m) => m.ts === ts && !m.deleted);
  }
  /** Ephemeral messages shown to one user, optionally in one channel, oldest first. */
  ephemerals(userRef: string, channelRef?: string): Ephemeral[] {
    const user = this.user(userRef)?.id ?? userRef;
    const channel = channelRef === undefined ? undefined : (this.channel(channelRef)?.id ?? channelRef);
    return this.ephemeralList.filter((e) => e.user === user && (channel === undefined || e.channel === channel));
  }

  addMessage(m: Omit<Message, 'ts' | 'edits' | 'deleted'> & { ts?: string }): Message {
    const msg: Message = { ...m, ts: m.ts ?? this.nextTs(), edits: [], deleted: false };
    this.all(m.channel).push(msg);
    this.emit('message', msg);
    this.emit('change');
    return msg;
  }
  /** A file's content as text (undefined until its bytes arrived). */
  fileText(id: string): string | undefined {
    return this.files.get(id)?.content?.toString('utf8');
  }
  updateMessage(msg: Message, next: { text: string; blocks?: unknown[]; attachments?: unknown[] }): Message {
    msg.edits.push({ text: msg.text, ...(msg.blocks ? { blocks: msg.blocks } : {}), at: this.clock.now() });
    msg.text = next.text;
    msg.blocks = next.blocks;
    msg.attachments = next.attachments;
    this.emit('update', msg);
    this.emit('change');
    return msg;
  }
  deleteMessage(msg: Message): void {
    msg.deleted = true;
    this.emit('update', msg);
    this.emit('change');
  }
  addEphemeral(e: Omit<Ephemeral, 'ts'>): Ephemeral {
    const eph: Ephemeral = { ...e, ts: this.nextTs() };
    this.ephemeralList.push(eph);
    this.emit('ephemeral', eph);
    this.emit('change');
    return eph;
  }
  /** Opens, replaces or closes a view and tells listeners. */
  setView(v: View): View {
    this.views.set(v.id, v);
    this.emit('view', v);
    this.emit('change');
    return v;
  }
  /** Views currently open for a user, oldest first. */
  openViews(userRef: string): View[] {
    const user = this.user(userRef)?.id ?? userRef;
    return [...this.views.values()].filter((v) => v.open && v.user === user);
  }
  recordCall(c: CallRecord): void {
    this.calls.push(c);
    this.emit('call', c);
    this.emit('change');
  }
  recordProblem(kind: Problem['kind'], detail: string): void {
    const p: Problem = { kind, detail, at: this.clock.now() };
    this.problems.push(p);
    this.emit('problem', p);
    this.emit('change');
  }

  /**
   * Resolves with the predicate's first value other than undefined, null or false, re-evaluated on
   * every change; rejects with a TimeoutError after `timeoutMs`, or with what the predicate throws.
   */
  waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs = 5000, what = 'stand-in condition'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        this.off('change', check);
        clearTimeout(timer);
      };
      // A throwing predicate rejects the wait; it must not break the code that changed the state.
      const check = (): void => {
        let v: T | undefined | null | false;
        try {
          v = predicate();
        } catch (err) {
          done();
          return reject(err as Error);
        }
        if (v === undefined || v === null || v === false) return;
        done();
        resolve(v);
      };
      const timer = setTimeout(() => {
        this.off('change', check);
        reject(new TimeoutError(what, timeoutMs));
      }, timeoutMs);
      this.on('change', check);
      check();
    });
  }

  private all(channelRef: string): Message[] {
    const id = this.channel(channelRef)?.id ?? channelRef;
    let list = this.history.get(id);
    if (!list) this.history.set(id, (list = []));
    return list;
  }
}
