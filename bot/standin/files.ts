/**
 * Slack's file upload as the stand-in speaks it (what `files.uploadV2` of @slack/web-api sends):
 * `files.getUploadURLExternal` hands out an upload URL and a file id, the client POSTs the bytes
 * there, and `files.completeUploadExternal` shares the file into a channel or thread (a message that
 * carries it). A file never completed is never shown; a completion of unknown or empty ids fails.
 */
import type { Workspace } from './workspace.js';

/** One uploaded file. */
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

type Args = Record<string, unknown>;
type Result = Record<string, unknown> & { ok: boolean };
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

let seq = 0;

export function getUploadUrlExternal(files: Map<string, StoredFile>, uploadUrl: (id: string) => string, args: Args): Result {
  const filename = str(args.filename);
  const length = Number(args.length);
  if (!filename || !Number.isInteger(length) || length < 1)
    return { ok: false, error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] filename and length (> 0) are required'] } };
  const id = `F0${(++seq).toString(36).toUpperCase().padStart(8, '0')}`;
  files.set(id, { id, filename, length, completed: false });
  return { ok: true, upload_url: uploadUrl(id), file_id: id };
}

/** The bytes POSTed to an upload URL: raw, or the first part of a multipart/form-data body. */
export function receiveUpload(files: Map<string, StoredFile>, id: string, contentType: string, raw: Buffer): number {
  const f = files.get(id);
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
  f.content = Buffer.from(content);
  return 200;
}

export function completeUploadExternal(workspace: Workspace, files: Map<string, StoredFile>, args: Args): Result {
  let list: { id?: string; title?: string }[];
  try {
    list = typeof args.files === 'string' ? (JSON.parse(args.files) as typeof list) : (args.files as typeof list);
  } catch {
    return { ok: false, error: 'invalid_arguments' };
  }
  if (!Array.isArray(list) || list.length === 0) return { ok: false, error: 'invalid_arguments' };
  const found = list.map((x) => files.get(String(x.id)));
  if (found.some((f) => !f || f.content === undefined || f.completed)) return { ok: false, error: 'file_not_found' };
  const channelId = str(args.channel_id);
  const threadTs = str(args.thread_ts);
  if (channelId) {
    const channel = workspace.channels.get(channelId);
    if (!channel) return { ok: false, error: 'channel_not_found' };
    if (threadTs && !workspace.message(channelId, threadTs)) return { ok: false, error: 'invalid_thread_ts' };
  }
  found.forEach((f, i) => {
    f!.completed = true;
    f!.title = list[i]!.title ?? f!.filename;
    if (channelId) {
      f!.channel = channelId;
      if (threadTs) f!.threadTs = threadTs;
    }
  });
  if (channelId) {
    workspace.addFileMessage(
      channelId,
      threadTs,
      str(args.initial_comment) ?? '',
      found.map((f) => f!.id),
    );
  }
  return { ok: true, files: found.map((f) => ({ id: f!.id, name: f!.filename, title: f!.title })) };
}
