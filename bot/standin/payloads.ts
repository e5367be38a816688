import { randomBytes } from 'node:crypto';
import { ChatOpsError } from '../../core/errors.js';
import type { SlackStandin } from './slack-standin.js';
import type { ResponseTarget } from './response-urls.js';
import { wireMessage } from './web-api.js';
import { BOT, TEAM, type User, type Channel } from './workspace.js';

/** A slash command as a user types it. `user` and `channel` take ids or names (`alice`, `#ops`). */
export interface CommandSpec { user: string; channel: string; command: string; text?: string; triggerId?: string }

/** A button press on a message (`ts` in `channel`, or an ephemeral one shown to the user). */
export interface ClickSpec {
  user: string;
  message: { channel: string; ts: string; ephemeral?: boolean };
  actionId: string;
  /** Defaults to the button's own value; set it to forge a click on a button that is not there. */
  value?: string;
  blockId?: string;
  triggerId?: string;
}

/** An Events API event (`{ type: 'app_mention', … }`); `eventId` is kept across retries. */
export interface EventSpec { event: Record<string, unknown>; eventId?: string }

/** What a transport sends, and where responses to it land. */
export interface Built { kind: 'slash_commands' | 'interactive' | 'events_api'; payload: Record<string, unknown>; target?: ResponseTarget }

let triggerSeq = 0;
/** A trigger id in Slack's shape (`<digits>.<digits>.<hex>`). */
export function newTriggerId(): string {
  return `${Date.now()}${++triggerSeq}.${BOT.appId.length}${triggerSeq}.${randomBytes(16).toString('hex')}`;
}

/** The driver was asked for something the workspace does not have (local mode shows the message). */
function driverError(what: string, field: string, expected?: string[]): ChatOpsError {
  const hint = expected ? `; expected one of ${expected.join(', ')}` : '';
  return new ChatOpsError('INPUT_INVALID', `stand-in driver: ${what}${hint}`, { details: { field, ...(expected ? { expected } : {}) } });
}

function who(standin: SlackStandin, ref: string): User {
  const u = standin.workspace.user(ref);
  if (!u) throw driverError(`unknown user ${ref}`, 'user', [...standin.workspace.users.values()].map((x) => x.name));
  return u;
}
function where(standin: SlackStandin, ref: string): Channel {
  const c = standin.workspace.channel(ref);
  if (!c) throw driverError(`unknown channel ${ref}`, 'channel', [...standin.workspace.channels.values()].map((x) => `#${x.name}`));
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
      token: standin.verificationToken, team_id: TEAM.id, team_domain: TEAM.domain, channel_id: channel.id, channel_name: channel.name,
      user_id: user.id, user_name: user.name, command: spec.command, text: spec.text ?? '', api_app_id: BOT.appId,
      is_enterprise_install: 'false', response_url: standin.newResponseUrl(target), trigger_id: spec.triggerId ?? newTriggerId(),
    },
  };
}

type Obj = Record<string, unknown>;

/** A button as a user sees it, in order of appearance: what the local client numbers and presses. */
export interface ButtonView { actionId: string; blockId?: string; text: string; value?: string; style?: string }

/** Every button in a message's blocks (actions elements and section accessories). */
export function buttonsOf(blocks: unknown[] | undefined): ButtonView[] {
  const out: ButtonView[] = [];
  for (const block of (blocks ?? []) as Obj[]) {
    const elements = [...(Array.isArray(block.elements) ? (block.elements as Obj[]) : []), ...(block.accessory ? [block.accessory as Obj] : [])];
    for (const e of elements) {
      if (e.type !== 'button' || typeof e.action_id !== 'string') continue;
      out.push({
        actionId: e.action_id, text: String((e.text as Obj | undefined)?.text ?? ''),
        ...(typeof block.block_id === 'string' ? { blockId: block.block_id } : {}),
        ...(typeof e.value === 'string' ? { value: e.value } : {}), ...(typeof e.style === 'string' ? { style: e.style } : {}),
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
    throw driverError(`message ${spec.message.ts} has no button ${spec.actionId}`, 'actionId', buttonsOf(stored.blocks).map((b) => b.actionId));
  }
  const text = (found?.element.text as Obj | undefined) ?? { type: 'plain_text', text: spec.actionId, emoji: true };
  const target: ResponseTarget = { channel: channel.id, user: user.id, messageTs: stored.ts, ...(stored.threadTs ? { threadTs: stored.threadTs } : {}) };
  return {
    kind: 'interactive',
    target,
    payload: {
      type: 'block_actions',
      user: { id: user.id, username: user.name, name: user.name, team_id: TEAM.id },
      api_app_id: BOT.appId, token: standin.verificationToken,
      container: { type: 'message', message_ts: stored.ts, channel_id: channel.id, is_ephemeral: ephemeral },
      trigger_id: spec.triggerId ?? newTriggerId(),
      team: { id: TEAM.id, domain: TEAM.domain }, enterprise: null, is_enterprise_install: false,
      channel: { id: channel.id, name: channel.name },
      ...(message ? { message: wireMessage(message) } : {}),
      state: { values: {} },
      response_url: standin.newResponseUrl(target),
      actions: [{
        action_id: spec.actionId, block_id: spec.blockId ?? (found?.block.block_id as string | undefined) ?? 'standin-block',
        text, value: spec.value ?? (found?.element.value as string | undefined) ?? '', type: 'button',
        ...(found?.element.style ? { style: found.element.style } : {}), action_ts: ws.nextTs(),
      }],
    },
  };
}

/** An `event_callback` wrapping `event`, as the Events API delivers it. */
export function buildEvent(standin: SlackStandin, spec: EventSpec): Built {
  return {
    kind: 'events_api',
    payload: {
      token: standin.verificationToken, team_id: TEAM.id, api_app_id: BOT.appId, type: 'event_callback',
      event: { event_ts: standin.workspace.nextTs(), ...spec.event }, event_id: spec.eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
      event_time: Math.floor(standin.workspace.clock.now() / 1000),
      authorizations: [{ team_id: TEAM.id, user_id: BOT.userId, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
    },
  };
}
