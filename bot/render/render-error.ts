/**
 * What Slack shows for an error: rendered from the error's fields (code, problems, usage), never
 * from a stack trace. Unknown errors say only that something failed and where to look.
 */
import { ChatOpsError, InputError, isChatOpsError } from '../../core/errors.js';
import { scrubSecrets } from '../logger.js';

export function renderError(e: unknown): { text: string } {
  if (e instanceof InputError) {
    const lines = e.problems.map((p) => `• ${p.path ? `\`${p.path}\`: ` : ''}${p.message}`);
    return { text: scrubSecrets(`:x: That command is not valid:\n${lines.join('\n')}\n*Usage:* \`${e.usage}\``) };
  }
  if (isChatOpsError(e)) {
    return { text: scrubSecrets(`:x: ${describe(e)}`) };
  }
  return { text: ':x: Something went wrong inside the bot; nothing further was done. The bot log has the details.' };
}

function describe(e: ChatOpsError): string {
  switch (e.code) {
    case 'NOT_AUTHORIZED':
      return `Not allowed: ${e.message}`;
    case 'LOCK_HELD':
      return `Busy: ${e.message}`;
    default:
      return `${e.message} (${e.code})`;
  }
}
