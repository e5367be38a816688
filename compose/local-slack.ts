/**
 * What local mode needs: an embedded Slack (the stand-in) and the terminal that drives it. Both live
 * outside the production code (slack-standin/, local-mode/) and are loaded here, by a dynamic import
 * whose path the compiler does not follow, only when local mode runs: the production image carries
 * neither, and a build without them says so instead of starting half a bot.
 */
import type { Readable, Writable } from 'node:stream';
import { ChatOpsError } from '../core/errors.js';

/** The embedded Slack as the composition root sees it (local-mode/local-slack.ts implements it). */
export interface LocalSlack {
  url: string;
  apiUrl: string;
  botToken: string;
  appToken: string;
  /** Runs the terminal client until its input ends. */
  runTerminal(io: { input: Readable; output: Writable }): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalSlackModule {
  startLocalSlack(): Promise<LocalSlack>;
}

// A variable, not a literal: tsc then neither compiles nor requires local-mode/ in a production build.
const LOCAL_MODE_MODULE = '../local-mode/local-slack.js';

export async function startLocalSlack(): Promise<LocalSlack> {
  let mod: LocalSlackModule;
  try {
    mod = (await import(LOCAL_MODE_MODULE)) as LocalSlackModule;
  } catch (e) {
    throw new ChatOpsError(
      'CONFIG_INVALID',
      'local mode is not part of this build (no local-mode/): set SLACK_APP_TOKEN or SLACK_SIGNING_SECRET, or run `npm start` from a source checkout',
      {
        cause: e,
      },
    );
  }
  return mod.startLocalSlack();
}
