/**
 * Local mode's Slack: the embedded stand-in and the terminal client on top of it, for the
 * composition root (compose/local-slack.ts loads this file dynamically, only in local mode).
 */
import type { LocalSlack, LocalSlackModule } from '../compose/local-slack.js';
import { SlackDriver } from '../slack-standin/driver.js';
import { SlackStandin } from '../slack-standin/slack-standin.js';
import { TerminalClient } from './terminal-client.js';

export const startLocalSlack: LocalSlackModule['startLocalSlack'] = async (): Promise<LocalSlack> => {
  const standin = await new SlackStandin().start();
  return {
    url: standin.url,
    apiUrl: standin.apiUrl,
    botToken: standin.botToken,
    appToken: standin.appToken,
    async runTerminal(io) {
      const client = new TerminalClient(standin, new SlackDriver(standin, { kind: 'socket' }), io);
      await client.start();
    },
    stop: () => standin.stop(),
  };
};
