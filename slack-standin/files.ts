/**
 * Slack's file upload as the stand-in speaks it (what `files.uploadV2` of @slack/web-api sends):
 * `files.getUploadURLExternal` hands out an upload URL and a file id, the client POSTs the bytes
 * there, and `files.completeUploadExternal` shares the file into a channel or thread (a message that
 * carries it). What Slack refuses, this refuses: no filename or a length below 1; completing a file
 * whose bytes never arrived, one already completed, or an empty or malformed list; a channel that
 * does not exist for the bot (or a private one it is not in), one it is not a member of, and a
 * thread_ts without a channel. A file never completed is never shown.
 */
import { BOT, type Workspace } from './workspace.js';

type Args = Record<string, unknown>;
type Result = Record<string, unknown> & { ok: boolean };
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

let seq = 0;

export function getUploadUrlExternal(ws: Workspace, uploadUrl: (id: string) => string, args: Args): Result {
  const filename = str(args.filename);
  const length = Number(args.length);
  if (!filename || !Number.isInteger(length) || length < 1)
    return { ok: false, error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] filename and length (> 0) are required'] } };
  const id = `F0${(++seq).toString(36).toUpperCase().padStart(8, '0')}`;
  ws.files.set(id, { id, filename, length, completed: false });
  return { ok: true, upload_url: uploadUrl(id), file_id: id };
}

/** The bytes POSTed to an upload URL: raw, or the first part of a multipart/form-data body. HTTP status. */
export function receiveUpload(ws: Workspace, id: string, contentType: string, raw: Buffer): number {
  const f = ws.files.get(id);
  if (!f || f.completed) return 404;
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  let content = raw;
  if (contentType.startsWith('multipart/form-data') && boundary) {
    const b = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
    const start = raw.indexOf(b);
    const headersEnd = raw.indexOf('\r\n\r\n', start);
    const end = raw.indexOf(Buffer.concat([Buffer.from('\r\n'), b]), headersEnd);
    if (start < 0 || headersEnd < 0 || end < 0) return 400;
    content = raw.subarray(headersEnd + 4, end);
  }
  if (content.length !== f.length) {
    // Not refused (Slack's behaviour here is not documented), but a client that announces one length
    // and sends another is worth a failing test.
    ws.recordProblem('upload_length_mismatch', `file ${id} (${f.filename}): announced ${f.length} bytes, received ${content.length}`);
  }
  f.content = Buffer.from(content);
  return 200;
}

export function completeUploadExternal(ws: Workspace, args: Args): Result {
  let list: { id?: string; title?: string }[];
  try {
    list = typeof args.files === 'string' ? (JSON.parse(args.files) as typeof list) : (args.files as typeof list);
  } catch {
    return { ok: false, error: 'invalid_arguments' };
  }
  if (!Array.isArray(list) || list.length === 0) return { ok: false, error: 'invalid_arguments' };
  const found = list.map((x) => ws.files.get(String(x.id)));
  if (found.some((f) => !f || f.content === undefined || f.completed)) return { ok: false, error: 'file_not_found' };
  const channelId = str(args.channel_id);
  const threadTs = str(args.thread_ts);
  if (threadTs && !channelId) return { ok: false, error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] thread_ts needs channel_id'] } };
  let parentTs: string | undefined;
  if (channelId) {
    const channel = ws.channel(channelId);
    if (!channel || (channel.isPrivate && !channel.members.includes(BOT.userId))) return { ok: false, error: 'channel_not_found' };
    if (!channel.members.includes(BOT.userId)) return { ok: false, error: 'not_in_channel' };
    if (threadTs) {
      const parent = ws.message(channel.id, threadTs);
      if (!parent) return { ok: false, error: 'invalid_thread_ts' };
      parentTs = parent.threadTs ?? parent.ts;
    }
  }
  found.forEach((f, i) => {
    f!.completed = true;
    f!.title = list[i]!.title ?? f!.filename;
    if (channelId) {
      f!.channel = ws.channel(channelId)!.id;
      if (parentTs) f!.threadTs = parentTs;
    }
  });
  if (channelId) {
    ws.addMessage({
      channel: ws.channel(channelId)!.id,
      user: BOT.userId,
      botId: BOT.botId,
      text: str(args.initial_comment) ?? '',
      files: found.map((f) => f!.id),
      via: 'api',
      replyBroadcast: false,
      ...(parentTs ? { threadTs: parentTs } : {}),
    });
  }
  return { ok: true, files: found.map((f) => ({ id: f!.id, name: f!.filename, title: f!.title })) };
}
