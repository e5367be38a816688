import { randomUUID } from 'node:crypto';
import { SLACK_LIMITS as L } from '../bot/render/slack-limits.js';
import { checkBlocks } from './block-check.js';
import type { Message, Workspace } from './workspace.js';
import { BOT } from './workspace.js';

/** Where a response lands: the channel and user of the command or click, and the clicked message if any. */
export interface ResponseTarget {
  channel: string;
  user: string;
  messageTs?: string;
  threadTs?: string;
}

/**
 * Slack's `response_url`s and acknowledgement bodies: both show a message to the user (ephemeral by
 * default), in the channel (`response_type: in_channel`), or replace/delete the original message.
 * A `response_url` takes at most 5 posts within 30 minutes, as Slack documents.
 */
export class ResponseUrls {
  private readonly sinks = new Map<string, ResponseTarget & { uses: number; created: number }>();

  constructor(private readonly workspace: Workspace) {}

  create(baseUrl: string, target: ResponseTarget): string {
    const id = randomUUID();
    this.sinks.set(id, { ...target, uses: 0, created: this.workspace.clock.now() });
    return `${baseUrl}/response/${id}`;
  }

  /** Handles a POST to `/response/<id>`; returns the HTTP status and body Slack would answer. */
  post(id: string, body: unknown): { status: number; body: string } {
    const sink = this.sinks.get(id);
    const refuse = (status: number, error: string): { status: number; body: string } => {
      this.workspace.recordProblem('response_url_refused', `response_url ${id}: ${error}`);
      return { status, body: error };
    };
    if (!sink) return refuse(404, 'invalid_url');
    if (this.workspace.clock.now() - sink.created > L.responseUrlTtlMs) return refuse(404, 'expired_url');
    if (sink.uses >= L.responseUrlUses) return refuse(404, 'used_url');
    const error = this.apply(sink, body, 'response_url');
    if (error) return { status: 400, body: error };
    sink.uses++;
    return { status: 200, body: 'ok' };
  }

  /** Shows a response as Slack would; returns a Slack error name when Slack would refuse it. */
  apply(target: ResponseTarget, body: unknown, via: Message['via']): string | undefined {
    if (body === undefined || body === null || body === '') return undefined;
    const msg = typeof body === 'string' ? { text: body } : (body as Record<string, unknown>);
    const text = typeof msg.text === 'string' ? msg.text : '';
    const blocks = Array.isArray(msg.blocks) ? (msg.blocks as unknown[]) : undefined;
    if (blocks && checkBlocks(blocks).length > 0) return 'invalid_blocks';
    if (text.length > L.messageText) return 'msg_too_long';
    const original = target.messageTs ? this.workspace.message(target.channel, target.messageTs) : undefined;
    if (msg.delete_original === true || msg.delete_original === 'true') {
      if (original) this.workspace.deleteMessage(original);
      return undefined;
    }
    // An empty acknowledgement ({}) shows nothing; an empty response_url post is an error.
    if (!text && !blocks) return via === 'ack' ? undefined : 'no_text';
    if ((msg.replace_original === true || msg.replace_original === 'true') && original) {
      this.workspace.updateMessage(original, { text, ...(blocks ? { blocks } : {}) });
    } else if (msg.response_type === 'in_channel') {
      this.workspace.addMessage({
        channel: target.channel,
        user: BOT.userId,
        botId: BOT.botId,
        text,
        replyBroadcast: false,
        via,
        ...(blocks ? { blocks } : {}),
        ...(target.threadTs ? { threadTs: target.threadTs } : {}),
      });
    } else {
      this.workspace.addEphemeral({ channel: target.channel, user: target.user, text, via, ...(blocks ? { blocks } : {}) });
    }
    return undefined;
  }
}
