/**
 * What the Slack surface (bot/app.ts: acks, dedupe, signatures) asks of the dispatcher, which owns
 * meaning; and what the dispatcher's parts are handed. Parsing is pure so that it can run before the ack.
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import type { Engine } from '../../engine/engine.js';
import type { Store } from '../../store/store.js';
import type { Command, Requester } from '../../core/types.js';
import type { InputError } from '../../core/errors.js';

export type ParseOutcome = { kind: 'help'; text: string } | { kind: 'error'; error: InputError; text: string } | { kind: 'command'; command: Command };

export interface Responder {
  /** Ephemeral reply to the person who typed the command or clicked (response_url, ≤ 5 uses). */
  ephemeral(text: string, blocks?: unknown[]): Promise<void>;
}

export interface SlashContext extends Responder {
  client: WebClient;
  requester: Requester;
  channelId: string;
  commandText: string;
  triggerId: string;
}

export interface ButtonAction {
  actionId: string;
  value: string;
  blockId?: string;
  /** The message the button sits on. */
  channelId: string;
  messageTs: string;
  threadTs?: string;
  /** A reason typed by the person (e.g. in the reject dialog). */
  reason?: string;
  /** Lets the handler open a dialog (views.open) within 3 seconds of the click. */
  triggerId?: string;
}

/** A submitted dialog: its callback id, what the handler put in private_metadata, and the inputs. */
export interface ViewSubmission {
  callbackId: string;
  privateMetadata: string;
  /** Input values by block id. */
  values: Record<string, string>;
}

export interface ActionContext extends Responder {
  client: WebClient;
  /** The person who clicked. */
  actor: Requester;
}

export interface Dispatcher {
  /** The slash commands this bot answers, e.g. ["/node", "/ip"]. */
  commands: readonly string[];
  /** Parse and validate. Pure and fast: it runs before the acknowledgement. */
  parse(input: { command: string; text: string; requester: Requester; channelId: string }): ParseOutcome;
  /** The text of the ephemeral acknowledgement of a valid command. */
  ackText(command: Command): string;
  /** Runs after the acknowledgement. */
  run(command: Command, ctx: SlashContext): Promise<void>;
  /** A button click, after the acknowledgement. */
  action(action: ButtonAction, ctx: ActionContext): Promise<void>;
  /** Pure check of a dialog before it is acknowledged: errors by block id keep it open. */
  checkView(view: ViewSubmission): Record<string, string> | undefined;
  /** A dialog submitted and accepted, after the acknowledgement. */
  view(view: ViewSubmission, ctx: ActionContext): Promise<void>;
}

/** What the store may be asked by the dispatcher: reads only (writes go through the engine). */
export type StoreReads = Pick<Store, 'getApproval' | 'getOperation' | 'listLocks' | 'listOperations' | 'getIncident'>;

/** What every part of the dispatcher gets from the composition root. */
export interface DispatchDeps {
  engine: Engine<unknown>;
  reads: StoreReads;
  clock: Clock;
  logger: Logger;
  /** Runbook names the engine knows; other runbook commands are answered "not available". */
  runbooks: ReadonlySet<string>;
  /** The deps of actions/ (actions/index.ts ActionDeps), for the queries. */
  deps?: unknown;
  /** Offer the break-glass button (a break-glass group is configured). */
  breakGlass: boolean;
}
