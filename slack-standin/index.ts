/** The Slack stand-in: a wire-level Slack for tests and local mode, and the driver that plays users. */
export { SlackStandin, type StandinOptions } from './slack-standin.js';
export { SlackDriver, type DriveResult, type HttpOptions, type SentRequest, type Transport } from './driver.js';
export {
  buildClick,
  buildCommand,
  buildEvent,
  buildViewSubmission,
  buttonsOf,
  type ButtonView,
  type ClickSpec,
  type CommandSpec,
  type EventSpec,
  type SubmitSpec,
} from './payloads.js';
export {
  Workspace,
  BOT,
  TEAM,
  type CallRecord,
  type Ephemeral,
  type Message,
  type Problem,
  type User,
  type Channel,
  type Usergroup,
  type View,
} from './workspace.js';
export type { AckResult } from './socket-mode.js';
export { signRequest } from './sign.js';
export { checkBlocks } from './block-check.js';
