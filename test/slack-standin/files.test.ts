/**
 * The stand-in's file upload at the wire level, driven by @slack/web-api's own files.uploadV2
 * (files.getUploadURLExternal, a POST of the bytes to the upload URL, files.completeUploadExternal).
 */
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SlackStandin } from '../../slack-standin/slack-standin.js';

let standin: SlackStandin;
beforeAll(async () => {
  standin = await new SlackStandin().start();
});
afterAll(async () => standin?.stop());

it('files.uploadV2 into a thread: the thread gets a message carrying the file, whose content is what was sent', async () => {
  const client = new WebClient(standin.botToken, { slackApiUrl: standin.apiUrl });
  const ops = [...standin.workspace.channels.values()].find((c) => c.name === 'ops')!;
  const parent = await client.chat.postMessage({ channel: ops.id, text: 'the card' });
  const content = '# Post-mortem\n\nünïcode and ``` fences\n'.repeat(50);
  await client.files.uploadV2({
    channel_id: ops.id,
    thread_ts: parent.ts!,
    filename: 'op.md',
    title: 'op post-mortem',
    content,
    initial_comment: 'the export',
  });
  const reply = standin.workspace.thread('ops', parent.ts!).find((m) => m.files?.length)!;
  expect(reply.text).toBe('the export');
  const file = standin.workspace.files.get(reply.files![0]!)!;
  expect([file.filename, file.title, file.channel, file.threadTs]).toEqual(['op.md', 'op post-mortem', ops.id, parent.ts]);
  expect(standin.workspace.fileText(file.id)).toBe(content);
  expect(standin.workspace.calls.map((c) => c.method).filter((m) => m.startsWith('files.'))).toEqual([
    'files.getUploadURLExternal',
    'files.completeUploadExternal',
  ]);
});

it('refuses to complete a file that was never uploaded, or into a channel that does not exist', async () => {
  const client = new WebClient(standin.botToken, { slackApiUrl: standin.apiUrl, retryConfig: { retries: 0 } });
  const got = await client.files.getUploadURLExternal({ filename: 'x.md', length: 3 });
  await expect(client.files.completeUploadExternal({ files: [{ id: got.file_id! }] })).rejects.toThrow(/file_not_found/);
  await expect(client.files.getUploadURLExternal({ filename: 'x.md', length: 0 })).rejects.toThrow(/invalid_arguments/);
});
