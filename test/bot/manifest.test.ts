import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { SLASH_COMMANDS } from '../../bot/grammar/index.js';

const manifest = parse(readFileSync('manifest.yml', 'utf8')) as {
  features: { slash_commands: { command: string; description: string; usage_hint: string }[]; bot_user: { display_name: string } };
  oauth_config: { scopes: { bot: string[] } };
  settings: { interactivity: { is_enabled: boolean }; socket_mode_enabled: boolean };
};

describe('manifest.yml', () => {
  it('lists exactly the slash commands the bot registers', () => {
    expect(manifest.features.slash_commands.map((c) => c.command).sort()).toEqual(SLASH_COMMANDS.map((s) => s.command).sort());
  });
  it('stays within Slack manifest limits', () => {
    for (const c of manifest.features.slash_commands) {
      expect(c.command.length).toBeLessThanOrEqual(32);
      expect(c.description.length).toBeLessThanOrEqual(2000);
      expect(c.usage_hint.length).toBeLessThanOrEqual(1000);
    }
  });
  it('asks for the scopes the bot uses and enables buttons', () => {
    expect(manifest.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['commands', 'chat:write', 'files:write', 'users:read', 'usergroups:read']));
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
  });
});
