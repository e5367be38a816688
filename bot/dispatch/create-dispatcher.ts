/**
 * The dispatcher bot/app.ts hands every delivery to: parse (pure, before the ack), then route a
 * command by its kind (runbook, query, control) and a button or dialog by its id. The meaning lives
 * in the parts beside this file; adding a runbook or a query changes none of them (actions/index.ts).
 */
import { isChatOpsError } from '../../core/errors.js';
import { getCommand, SLASH_COMMANDS } from '../grammar/index.js';
import { interpretCommand } from '../grammar/interpret-command.js';
import { renderInputError } from '../grammar/render-input-error.js';
import { renderError } from '../render/render-error.js';
import { approvalButton } from './approval-buttons.js';
import { checkDialog, submitDialog } from './dialogs.js';
import { incidentButton } from './incident-buttons.js';
import { controlOperation, statusCardButton } from './op-control.js';
import { answerQuery } from './queries.js';
import { submitRunbook } from './runbook-commands.js';
import { scheduleRefusal } from './schedule-gate.js';
import type { Dispatcher, DispatchDeps, ParseOutcome } from './types.js';

export function createDispatcher(d: DispatchDeps): Dispatcher {
  return {
    commands: SLASH_COMMANDS.map((s) => s.command),

    parse(input): ParseOutcome {
      const r = interpretCommand(input, { now: d.clock.now() });
      if (r.kind === 'command') {
        const refused = scheduleRefusal(r.command);
        return refused ? { kind: 'error', error: refused, text: renderInputError(refused).mrkdwn } : r;
      }
      return r.kind === 'help' ? { kind: 'help', text: r.mrkdwn } : { kind: 'error', error: r.error, text: r.mrkdwn };
    },

    ackText(command) {
      if (getCommand(command.name)?.kind === 'runbook') return `:hourglass_flowing_sand: Planning \`${command.raw}\` …`;
      return `:hourglass_flowing_sand: \`${command.raw}\` …`;
    },

    async run(command, ctx) {
      const kind = getCommand(command.name)?.kind;
      if (kind === 'runbook') return submitRunbook(d, command, ctx);
      if (kind === 'control') return controlOperation(d, command, ctx);
      return answerQuery(d, command, ctx);
    },

    async action(action, ctx) {
      try {
        if (action.actionId.startsWith('approval.')) return await approvalButton(d, action, ctx);
        if (await statusCardButton(d, action, ctx)) return;
        if (await incidentButton(d, action, ctx)) return;
        return ctx.ephemeral(`This button (${action.actionId}) is not known to this bot.`);
      } catch (e) {
        if (!isChatOpsError(e)) throw e;
        d.logger.info({ code: e.code, err: e.message, action: action.actionId }, 'button refused');
        return ctx.ephemeral(renderError(e).text);
      }
    },

    checkView: checkDialog,

    view: (view, ctx) => submitDialog(d, view, ctx),
  };
}
