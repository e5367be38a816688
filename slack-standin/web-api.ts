import { completeUploadExternal, getUploadUrlExternal } from './files.js';
import { SLACK_LIMITS as L } from '../bot/render/slack-limits.js';
import { checkBlocks } from './block-check.js';
import { VIEW_METHODS } from './views.js';
import type { Channel, Message, Workspace } from './workspace.js';
import { BOT, TEAM } from './workspace.js';

/** What a method answers: HTTP 200 with Slack's `{ ok, … }` JSON. */
export type MethodResult = Record<string, unknown> & { ok: boolean };

/** What the Web API methods need from the server around them. */
export interface WebApiContext {
  workspace: Workspace;
  /** Hands out a Socket Mode URL with a fresh ticket (apps.connections.open). */
  openConnection(): string;
  /** Where the bytes of file `id` are POSTed (files.getUploadURLExternal). */
  uploadUrl(id: string): string;
}

type Args = Record<string, unknown>;
type Method = (ctx: WebApiContext, args: Args) => MethodResult;

const fail = (error: string, extra: Args = {}): MethodResult => ({ ok: false, error, ...extra });
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);
const truthy = (v: unknown): boolean => v === true || v === 'true' || v === '1' || v === 1;

/** Methods the bot token may call, by name; `apps.connections.open` is the app token's only method. */
export const BOT_METHODS: Record<string, Method> = {
  'files.getUploadURLExternal': (ctx, args) => getUploadUrlExternal(ctx.workspace, ctx.uploadUrl, args),
  'files.completeUploadExternal': (ctx, args) => completeUploadExternal(ctx.workspace, args),
  'auth.test': () => ({
    ok: true,
    url: `https://${TEAM.domain}.slack.com/`,
    team: TEAM.name,
    user: BOT.name,
    team_id: TEAM.id,
    user_id: BOT.userId,
    bot_id: BOT.botId,
    is_enterprise_install: false,
  }),
  'users.info': ({ workspace }, args) => {
    const u = workspace.users.get(str(args.user) ?? '');
    if (!u) return fail('user_not_found');
    return {
      ok: true,
      user: {
        id: u.id,
        team_id: TEAM.id,
        name: u.name,
        real_name: u.realName,
        deleted: false,
        is_bot: u.isBot,
        is_admin: false,
        profile: { real_name: u.realName, display_name: u.name },
      },
    };
  },
  'usergroups.users.list': ({ workspace }, args) => {
    const g = workspace.usergroups.get(str(args.usergroup) ?? '');
    return g ? { ok: true, users: [...g.users] } : fail('no_such_subteam');
  },
  'conversations.info': ({ workspace }, args) => {
    const c = workspace.channels.get(str(args.channel) ?? '');
    if (!c) return fail('channel_not_found');
    return {
      ok: true,
      channel: {
        id: c.id,
        name: c.name,
        is_channel: !c.isPrivate,
        is_group: c.isPrivate,
        is_im: c.id.startsWith('D'),
        is_private: c.isPrivate,
        is_archived: false,
        is_member: c.members.includes(BOT.userId),
      },
    };
  },
  'chat.postMessage': ({ workspace }, args) => {
    const channel = resolveChannel(workspace, args.channel);
    // A private channel the bot is not in does not exist for it; a public one needs an invitation.
    if (!channel || (channel.isPrivate && !channel.members.includes(BOT.userId))) return fail('channel_not_found');
    if (!channel.members.includes(BOT.userId)) return fail('not_in_channel');
    const content = readContent(workspace, 'chat.postMessage', args);
    if ('error' in content) return content.error;
    let threadTs = str(args.thread_ts);
    if (threadTs !== undefined) {
      const parent = workspace.message(channel.id, threadTs);
      if (!parent) return fail('thread_not_found');
      threadTs = parent.threadTs ?? parent.ts; // a reply to a reply lands in the same thread
    }
    const msg = workspace.addMessage({
      channel: channel.id,
      user: BOT.userId,
      botId: BOT.botId,
      ...content,
      via: 'api',
      ...(threadTs !== undefined ? { threadTs } : {}),
      replyBroadcast: threadTs !== undefined && truthy(args.reply_broadcast),
      ...(args.metadata !== undefined ? { metadata: parseMetadata(args.metadata) } : {}),
    });
    return { ok: true, channel: channel.id, ts: msg.ts, message: wireMessage(msg) };
  },
  'chat.update': ({ workspace }, args) => {
    const channel = resolveChannel(workspace, args.channel);
    if (!channel) return fail('channel_not_found');
    const ts = str(args.ts);
    if (ts === undefined) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: ts'] } });
    const msg = workspace.message(channel.id, ts);
    if (!msg) return fail('message_not_found');
    if (msg.user !== BOT.userId) return fail('cant_update_message');
    const content = readContent(workspace, 'chat.update', args);
    if ('error' in content) return content.error;
    // Slack keeps the previous blocks/attachments when the field is absent; an empty array removes them.
    workspace.updateMessage(msg, {
      text: content.text,
      ...(args.blocks === undefined ? (msg.blocks ? { blocks: msg.blocks } : {}) : content.blocks?.length ? { blocks: content.blocks } : {}),
      ...(args.attachments === undefined
        ? msg.attachments
          ? { attachments: msg.attachments }
          : {}
        : content.attachments?.length
          ? { attachments: content.attachments }
          : {}),
    });
    return { ok: true, channel: channel.id, ts: msg.ts, text: msg.text, message: wireMessage(msg) };
  },
  'chat.delete': ({ workspace }, args) => {
    const channel = resolveChannel(workspace, args.channel);
    if (!channel) return fail('channel_not_found');
    const msg = workspace.message(channel.id, str(args.ts) ?? '');
    if (!msg) return fail('message_not_found');
    if (msg.user !== BOT.userId) return fail('cant_delete_message');
    workspace.deleteMessage(msg);
    return { ok: true, channel: channel.id, ts: msg.ts };
  },
  'chat.getPermalink': ({ workspace }, args) => {
    const channel = resolveChannel(workspace, args.channel);
    if (!channel) return fail('channel_not_found');
    const ts = str(args.message_ts) ?? '';
    if (!workspace.message(channel.id, ts)) return fail('message_not_found');
    return { ok: true, channel: channel.id, permalink: `https://${TEAM.domain}.slack.com/archives/${channel.id}/p${ts.replace('.', '')}` };
  },
  'chat.postEphemeral': ({ workspace }, args) => {
    const channel = resolveChannel(workspace, args.channel);
    if (!channel) return fail('channel_not_found');
    const user = workspace.users.get(str(args.user) ?? '');
    if (!user) return fail('user_not_found');
    if (!channel.members.includes(user.id)) return fail('user_not_in_channel');
    const content = readContent(workspace, 'chat.postEphemeral', args);
    if ('error' in content) return content.error;
    const threadTs = str(args.thread_ts);
    const eph = workspace.addEphemeral({
      channel: channel.id,
      user: user.id,
      text: content.text,
      via: 'api',
      ...(content.blocks ? { blocks: content.blocks } : {}),
      ...(threadTs !== undefined ? { threadTs } : {}),
    });
    return { ok: true, message_ts: eph.ts };
  },
};

for (const [name, method] of Object.entries(VIEW_METHODS)) BOT_METHODS[name] = ({ workspace }, args) => method(workspace, args);

export const APP_METHODS: Record<string, Method> = {
  'apps.connections.open': (ctx) => ({ ok: true, url: ctx.openConnection() }),
};

/** A channel by id or name; a user id opens (creates) the direct-message channel with that user. */
function resolveChannel(ws: Workspace, ref: unknown): Channel | undefined {
  const r = str(ref);
  if (r === undefined) return undefined;
  const found = ws.channels.get(r) ?? (r.startsWith('#') || /^[a-z0-9_-]+$/.test(r) ? ws.channel(r) : undefined);
  if (found) return found;
  const user = ws.users.get(r);
  return user ? ws.addChannel({ id: `D${user.id.slice(1)}`, name: `dm-${user.name}`, isPrivate: true, members: [user.id, BOT.userId] }) : undefined;
}

/** Slack sends `blocks`/`attachments` as JSON strings in form bodies, as arrays in JSON bodies. */
function parseJsonArg(v: unknown): { value?: unknown[]; bad: boolean } {
  if (v === undefined || v === '') return { bad: false };
  if (Array.isArray(v)) return { value: v, bad: false };
  if (typeof v !== 'string') return { bad: true };
  try {
    const parsed: unknown = JSON.parse(v);
    return Array.isArray(parsed) ? { value: parsed, bad: false } : { bad: true };
  } catch {
    return { bad: true };
  }
}

function parseMetadata(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

type Content = { text: string; blocks?: unknown[]; attachments?: unknown[] };

/** Text, blocks and attachments of a message, checked as Slack checks them. */
function readContent(ws: Workspace, method: string, args: Args): Content | { error: MethodResult } {
  const text = typeof args.text === 'string' ? args.text : undefined;
  const blocks = parseJsonArg(args.blocks);
  const attachments = parseJsonArg(args.attachments);
  if (blocks.bad) return { error: fail('invalid_blocks_format') };
  if (attachments.bad) return { error: fail('invalid_attachments') };
  if (!text && !blocks.value?.length && !attachments.value?.length) return { error: fail('no_text') };
  if (text !== undefined && text.length > L.messageText) return { error: fail('msg_too_long') };
  if (blocks.value) {
    const errors = checkBlocks(blocks.value);
    if (errors.length > 0) {
      return { error: fail('invalid_blocks', { errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } }) };
    }
    if (!text) ws.recordProblem('missing_text', `${method} with blocks but no top-level text (no notification fallback)`);
  }
  return { text: text ?? '', ...(blocks.value ? { blocks: blocks.value } : {}), ...(attachments.value ? { attachments: attachments.value } : {}) };
}

/** A stored message as Slack returns it in `message` fields. */
export function wireMessage(m: Message): Record<string, unknown> {
  return {
    type: 'message',
    user: m.user,
    ...(m.botId ? { bot_id: m.botId, app_id: BOT.appId } : {}),
    team: TEAM.id,
    ts: m.ts,
    text: m.text,
    ...(m.blocks ? { blocks: m.blocks } : {}),
    ...(m.attachments ? { attachments: m.attachments } : {}),
    ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
    ...(m.edits.length ? { edited: { user: m.user, ts: m.ts } } : {}),
  };
}
