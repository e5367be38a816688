/* global module */
/**
 * The import rules of docs/architecture.md, checked by `npm run lint` (`depcruise`):
 * engine imports no runbook, adapter or bot module; adapters and the store import none of
 * bot/engine/actions/approvals; the store is a leaf over core; approvals → store, core;
 * actions → engine, adapters, core (the store's types only); jobs → engine, approvals, the actions
 * registry, store; bot → anything but tests; the Slack stand-in and the terminal client are imported
 * only by each other, local mode's loader and tests; core depends on nothing; no cycles.
 */
const PRODUCTION = '^(core|store|adapters|engine|approvals|actions|jobs|bot|compose)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Imports run one way.', from: {}, to: { circular: true } },
    {
      name: 'core-is-a-leaf',
      severity: 'error',
      comment: 'core/ depends on nothing of the project.',
      from: { path: '^core/' },
      to: { path: '^(?!core/)[^/]+/', pathNot: '^node_modules/' },
    },
    {
      name: 'store-is-a-leaf',
      severity: 'error',
      comment: 'store/ imports only core/.',
      from: { path: '^store/' },
      to: { path: '^(?!(store|core)/)[^/]+/', pathNot: '^node_modules/' },
    },
    {
      name: 'adapters-know-no-runbook-approval-or-chat',
      severity: 'error',
      comment: 'adapters/ import none of bot/, engine/, actions/, approvals/ (nor jobs/, compose/).',
      from: { path: '^adapters/' },
      to: { path: '^(bot|engine|actions|approvals|jobs|compose|slack-standin|local-mode)/' },
    },
    {
      name: 'engine-knows-no-runbook-adapter-or-bot',
      severity: 'error',
      comment: 'engine/ imports store/ and core/ only: no runbook, no adapter, no Slack.',
      from: { path: '^engine/' },
      to: { path: '^(actions|adapters|bot|approvals|jobs|compose|slack-standin|local-mode)/' },
    },
    {
      name: 'approvals-over-store-and-core',
      severity: 'error',
      comment: 'approvals/ → store/, core/ (and the engine port types it implements).',
      from: { path: '^approvals/' },
      to: { path: '^(actions|adapters|bot|jobs|compose|slack-standin|local-mode)/' },
    },
    {
      name: 'actions-over-engine-adapters-core',
      severity: 'error',
      comment: 'actions/ → engine/, adapters/, core/; never bot/, approvals/, jobs/.',
      from: { path: '^actions/' },
      to: { path: '^(bot|approvals|jobs|compose|slack-standin|local-mode)/' },
    },
    {
      name: 'actions-see-store-types-only',
      severity: 'error',
      comment: "A runbook gets what it reads from its deps; it may name the store's record types, never call the store.",
      from: { path: '^actions/' },
      to: { path: '^store/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'jobs-over-engine-approvals-registry-store',
      severity: 'error',
      comment: 'jobs/ → engine/, approvals/, the actions registry (actions/index.ts), store/, core/.',
      from: { path: '^jobs/' },
      to: { path: '^(bot|adapters|compose|slack-standin|local-mode)/|^actions/(?!index\\.ts$)' },
    },
    {
      name: 'standin-and-terminal-only-in-local-mode',
      severity: 'error',
      comment: 'slack-standin/ and local-mode/ are loaded by compose/local-slack.ts with a dynamic import in local mode only (and by tests).',
      from: { path: PRODUCTION },
      to: { path: '^(slack-standin|local-mode)/' },
    },
    {
      name: 'no-tests-in-production',
      severity: 'error',
      comment: 'Production code never imports test/ or bench/.',
      from: { path: PRODUCTION },
      to: { path: '^(test|bench)/' },
    },
    { name: 'not-to-unresolvable', severity: 'error', comment: 'Every import resolves.', from: {}, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|coverage|test-results)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
