/**
 * `npm start` with no Slack credentials: the same bot against the embedded stand-in, driven from a
 * terminal. Typed lines go in on stdin; the channel comes back as text on stdout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../helpers/bot-process.js';

describe('local mode', () => {
  let bot: BotProcess;
  const type = (line: string) => bot.child.stdin!.write(`${line}\n`);

  beforeAll(async () => {
    bot = await startBot({ mode: 'local' });
    await bot.waitForOutput(/alice@#ops> /);
  });
  afterAll(async () => {
    await bot?.stop();
  });

  it('says which mode it is in and why', () => {
    expect(bot.output()).toMatch(/LOCAL mode, because no Slack credentials are set/);
  });

  it('answers help and validation errors like Slack would', async () => {
    type('/node help drain');
    await bot.waitForOutput(/\(only you see this\) alice:\n.*drain <host> reason=/);
    type('/node drain -c01 reason=x');
    await bot.waitForOutput(/That command has 2 problems:[\s\S]*host[\s\S]*reason/);
  });

  it('switches people and lists operations', async () => {
    type('/as bob');
    await bot.waitForOutput(/you are now bob/);
    type('/op list');
    await bot.waitForOutput(/only you see this\) bob:\n\s+\*Operations \(newest first\)\*\n\s+\(none\)/);
    type('/as nobody');
    await bot.waitForOutput(/no such person "nobody"/);
  });

  it('stops cleanly on /quit', async () => {
    type('/quit');
    const code = await new Promise<number | null>((r) => bot.child.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  });
});
