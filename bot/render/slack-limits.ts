/**
 * Slack's documented limits, in one place: the bot's renderers check their output against these and
 * the Slack stand-in rejects what exceeds them. Sources: `@slack/types` JSDoc, docs.slack.dev
 * (Block Kit reference, chat.postMessage, rate limits) and Slack's slash-command docs. Slack can
 * change them; when it does, change them here only.
 */
export const SLACK_LIMITS = {
  /** Blocks in one message (modals and App Home allow 100). */
  blocksPerMessage: 50,
  /** `section.text.text`. */
  sectionText: 3000,
  /** `section.fields[]` count and each field's text. */
  sectionFields: 10,
  sectionFieldText: 2000,
  /** `header.text.text`. */
  headerText: 150,
  /** `markdown` block text. */
  markdownText: 12_000,
  /** `context.elements[]` count. */
  contextElements: 10,
  /** `actions.elements[]` count. */
  actionsElements: 25,
  /** Button `text.text`, `value`, `url`. */
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  /** `action_id` and `block_id`. */
  actionId: 255,
  blockId: 255,
  /** Confirmation dialog parts. */
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  /** Modals: blocks, title/submit/close texts, callback_id, private_metadata. */
  modalBlocks: 100,
  viewTitle: 24,
  viewButton: 24,
  callbackId: 255,
  privateMetadata: 3000,
  /** A `trigger_id` opens one view, within this many ms of the interaction. */
  triggerTtlMs: 3000,
  /** Top-level `text` of a message: `msg_too_long` past this. */
  messageText: 40_000,
  /** A `response_url` accepts this many posts within `responseUrlTtlMs`. */
  responseUrlUses: 5,
  responseUrlTtlMs: 30 * 60 * 1000,
  /** Time Slack waits for the acknowledgement of a command, click or event. */
  ackDeadlineMs: 3000,
  /** Signed requests older (or newer) than this are refused. */
  signatureWindowSec: 5 * 60,
  /** chat.postMessage: about one message per second per channel, short bursts tolerated. */
  postMessagePerChannelPerSec: 1,
  postMessageBurst: 5,
  /** Tier 3 methods (chat.update among them): about 50 calls a minute per method. */
  tier3PerMinute: 50,
} as const;

export type SlackLimits = typeof SLACK_LIMITS;
