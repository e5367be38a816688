import { randomBytes } from 'node:crypto';
import { ChatOpsError } from '../core/errors.js';
import type { SlackStandin } from './slack-standin.js';
import type { ResponseTarget } from './response-urls.js';
import { wireMessage } from './web-api.js';
import { BOT, TEAM, type User, type Channel } from './workspace.js';

/** A slash command as a user types it. `user` and `channel` take ids or names (`alice`, `#ops`). */
export interface CommandSpec {
  user: string;
  channel: string;
  command: string;
  text?: string;
  triggerId?: string;
}

/** A button press on a message (`ts` in `channel`, or an ephemeral one shown to the user). */
export interface ClickSpec {
  user: string;
  message: { channel: string; ts: string; ephemeral?: boolean };
  actionId: string;
  /** Defaults to the button's own value; set it to forge a click on a button that is not there. */
  value?: string;
  blockId?: string;
  triggerId?: string;
  /** `state.values` of inputs in the message (`{ [block_id]: { [action_id]: { type, value } } }`). */
  state?: Record<string, Record<string, unknown>>;
}

/** Submitting an open modal: `values[block_id][action_id]` is what the user typed or chose. */
export interface SubmitSpec {
  user: string;
  viewId: string;
  values: Record<string, Record<string, string>>;
}

/** An Events API event (`{ type: 'app_mention', … }`); `eventId` is kept across retries. */
export interface EventSpec {
  event: Record<string, unknown>;
  eventId?: string;
}

/** What a transport sends, and where responses to it land. */
export interface Built {
  kind: 'slash_commands' | 'interactive' | 'events_api';
  payload: Record<string, unknown>;
  /** Where a command's ack body or a response_url post lands. */
  target?: ResponseTarget;
  /** The view a `view_submission` is about (its ack decides whether the modal closes). */
  viewId?: string;
}

let triggerSeq = 0;
/** A trigger id in Slack's shape (`<digits>.<digits>.<hex>`). */
export function newTriggerId(): string {
  return `${Date.now()}${++triggerSeq}.${BOT.appId.length}${triggerSeq}.${randomBytes(16).toString('hex')}`;
}

/** Hands out (or re-registers, for replays) a trigger_id that views.open will accept for 3 s, once. */
function trigger(standin: SlackStandin, user: string, given?: string): string {
  const id = given ?? newTriggerId();
  if (!standin.workspace.triggers.has(id)) standin.workspace.triggers.set(id, { user, at: standin.workspace.clock.now(), used: false });
  return id;
}

/** The driver was asked for something the workspace does not have (local mode shows the message). */
function driverError(what: string, field: string, expected?: string[]): ChatOpsError {
  const hint = expected ? `; expected one of ${expected.join(', ')}` : '';
  return new ChatOpsError('INPUT_INVALID', `stand-in driver: ${what}${hint}`, { details: { field, ...(expected ? { expected } : {}) } });
}

function who(standin: SlackStandin, ref: string): User {
  const u = standin.workspace.user(ref);
  if (!u)
    throw driverError(
      `unknown user ${ref}`,
      'user',
      [...standin.workspace.users.values()].map((x) => x.name),
    );
  return u;
}
function where(standin: SlackStandin, ref: string): Channel {
  const c = standin.workspace.channel(ref);
  if (!c)
    throw driverError(
      `unknown channel ${ref}`,
      'channel',
      [...standin.workspace.channels.values()].map((x) => `#${x.name}`),
    );
  return c;
}

/** The fields Slack posts for a slash command (all strings, as in the form body). */
export function buildCommand(standin: SlackStandin, spec: CommandSpec): Built {
  const user = who(standin, spec.user);
  const channel = where(standin, spec.channel);
  const target: ResponseTarget = { channel: channel.id, user: user.id };
  return {
    kind: 'slash_commands',
    target,
    payload: {
      token: standin.verificationToken,
      team_id: TEAM.id,
      team_domain: TEAM.domain,
      channel_id: channel.id,
      channel_name: channel.name,
      user_id: user.id,
      user_name: user.name,
      command: spec.command,
      text: spec.text ?? '',
      api_app_id: BOT.appId,
      is_enterprise_install: 'false',
      response_url: standin.newResponseUrl(target),
      trigger_id: trigger(standin, user.id, spec.triggerId),
    },
  };
}

type Obj = Record<string, unknown>;

/** A button as a user sees it, in order of appearance: what the local client numbers and presses. */
export interface ButtonView {
  actionId: string;
  blockId?: string;
  text: string;
  value?: string;
  style?: string;
}

/** Every button in a message's blocks (actions elements and section accessories). */
export function buttonsOf(blocks: unknown[] | undefined): ButtonView[] {
  const out: ButtonView[] = [];
  for (const block of (blocks ?? []) as Obj[]) {
    const elements = [...(Array.isArray(block.elements) ? (block.elements as Obj[]) : []), ...(block.accessory ? [block.accessory as Obj] : [])];
    for (const e of elements) {
      if (e.type !== 'button' || typeof e.action_id !== 'string') continue;
      out.push({
        actionId: e.action_id,
        text: String((e.text as Obj | undefined)?.text ?? ''),
        ...(typeof block.block_id === 'string' ? { blockId: block.block_id } : {}),
        ...(typeof e.value === 'string' ? { value: e.value } : {}),
        ...(typeof e.style === 'string' ? { style: e.style } : {}),
      });
    }
  }
  return out;
}

/** Finds the button with `actionId` (and `blockId`) in a message's blocks. */
function findButton(blocks: unknown[] | undefined, actionId: string, blockId?: string): { block: Obj; element: Obj } | undefined {
  for (const block of (blocks ?? []) as Obj[]) {
    if (blockId !== undefined && block.block_id !== blockId) continue;
    const elements = [...(Array.isArray(block.elements) ? (block.elements as Obj[]) : []), ...(block.accessory ? [block.accessory as Obj] : [])];
    const element = elements.find((e) => e.action_id === actionId);
    if (element) return { block, element };
  }
  return undefined;
}

/** The `block_actions` payload Slack sends when `user` presses a button. */
export function buildClick(standin: SlackStandin, spec: ClickSpec): Built {
  const user = who(standin, spec.user);
  const channel = where(standin, spec.message.channel);
  const ws = standin.workspace;
  const ephemeral = spec.message.ephemeral === true;
  const message = ephemeral ? undefined : ws.message(channel.id, spec.message.ts);
  const stored = message ?? (ephemeral ? ws.ephemerals(user.id, channel.id).find((e) => e.ts === spec.message.ts) : undefined);
  if (!stored) throw driverError(`no message ${spec.message.ts} in #${channel.name} for ${user.name} to click`, 'message');
  const found = findButton(stored.blocks, spec.actionId, spec.blockId);
  if (!found && spec.value === undefined) {
    throw driverError(
      `message ${spec.message.ts} has no button ${spec.actionId}`,
      'actionId',
      buttonsOf(stored.blocks).map((b) => b.actionId),
    );
  }
  const text = (found?.element.text as Obj | undefined) ?? { type: 'plain_text', text: spec.actionId, emoji: true };
  const target: ResponseTarget = { channel: channel.id, user: user.id, messageTs: stored.ts, ...(stored.threadTs ? { threadTs: stored.threadTs } : {}) };
  return {
    kind: 'interactive',
    target,
    payload: {
      type: 'block_actions',
      user: { id: user.id, username: user.name, name: user.name, team_id: TEAM.id },
      api_app_id: BOT.appId,
      token: standin.verificationToken,
      container: { type: 'message', message_ts: stored.ts, channel_id: channel.id, is_ephemeral: ephemeral },
      trigger_id: trigger(standin, user.id, spec.triggerId),
      team: { id: TEAM.id, domain: TEAM.domain },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: channel.id, name: channel.name },
      ...(message ? { message: wireMessage(message) } : {}),
      state: { values: spec.state ?? {} },
      response_url: standin.newResponseUrl(target),
      actions: [
        {
          action_id: spec.actionId,
          block_id: spec.blockId ?? (found?.block.block_id as string | undefined) ?? 'standin-block',
          text,
          value: spec.value ?? (found?.element.value as string | undefined) ?? '',
          type: 'button',
          ...(found?.element.style ? { style: found.element.style } : {}),
          action_ts: ws.nextTs(),
        },
      ],
    },
  };
}

/** An `event_callback` wrapping `event`, as the Events API delivers it. */
export function buildEvent(standin: SlackStandin, spec: EventSpec): Built {
  return {
    kind: 'events_api',
    payload: {
      token: standin.verificationToken,
      team_id: TEAM.id,
      api_app_id: BOT.appId,
      type: 'event_callback',
      event: { event_ts: standin.workspace.nextTs(), ...spec.event },
      event_id: spec.eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
      event_time: Math.floor(standin.workspace.clock.now() / 1000),
      authorizations: [{ team_id: TEAM.id, user_id: BOT.userId, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
    },
  };
}

/**
 * The `view_submission` Slack sends when `user` presses Submit on an open modal. Each value goes to
 * the input element with that block_id/action_id, typed as the element is (text or a select).
 */
export function buildViewSubmission(standin: SlackStandin, spec: SubmitSpec): Built {
  const user = who(standin, spec.user);
  const v = standin.workspace.views.get(spec.viewId);
  if (!v || !v.open || v.user !== user.id) throw driverError(`no open view ${spec.viewId} for ${user.name}`, 'viewId');
  const elements = new Map<string, Obj>();
  for (const b of (Array.isArray(v.view.blocks) ? v.view.blocks : []) as Obj[]) {
    const e = b.element as Obj | undefined;
    if (b.type === 'input' && e) elements.set(`${String(b.block_id)}/${String(e.action_id)}`, e);
  }
  const values: Record<string, Record<string, unknown>> = {};
  for (const [blockId, byAction] of Object.entries(spec.values)) {
    for (const [actionId, value] of Object.entries(byAction)) {
      const e = elements.get(`${blockId}/${actionId}`);
      if (!e) throw driverError(`view ${v.id} has no input ${blockId}/${actionId}`, 'values', [...elements.keys()]);
      const type = String(e.type);
      (values[blockId] ??= {})[actionId] = type.endsWith('_select')
        ? { type, selected_option: { text: { type: 'plain_text', text: value }, value } }
        : { type, value };
    }
  }
  return {
    kind: 'interactive',
    viewId: v.id,
    payload: {
      type: 'view_submission',
      team: { id: TEAM.id, domain: TEAM.domain },
      user: { id: user.id, username: user.name, name: user.name, team_id: TEAM.id },
      api_app_id: BOT.appId,
      token: standin.verificationToken,
      trigger_id: trigger(standin, user.id),
      view: { id: v.id, team_id: TEAM.id, app_id: BOT.appId, bot_id: BOT.botId, hash: `${v.id}-hash`, root_view_id: v.id, ...v.view, state: { values } },
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    },
  };
}
