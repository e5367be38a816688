/**
 * The core types every folder speaks (architecture.md, "The core types"). Plain data where it is
 * stored or hashed; functions only on executable steps, which a runbook rebuilds from plan data.
 */

/** Who asked, as Slack identifies them. Compared by user id AND team id. */
export interface Requester {
  userId: string;
  teamId: string;
  userName?: string;
}

export type CommandFamily = 'node' | 'instance' | 'volume' | 'ip' | 'op' | 'schedule';

/** A parsed, validated request. `args` holds only values that passed their zod schemas. */
export interface Command {
  family: CommandFamily;
  verb: string;
  /** Registry key, e.g. "node.drain". */
  name: string;
  /** Positional arguments and key=value options, validated and normalised (host names lower-case, IPs canonical). */
  args: Readonly<Record<string, unknown>>;
  /** The text as typed, for the audit log only; never interpreted again. */
  raw: string;
  requester: Requester;
  channelId: string;
}

/** What a step does to the world. `read` needs no approval; `destructive` is the strongest. */
export type Effect = 'read' | 'change' | 'destructive';

/** A step as shown in a plan and stored with it (serialisable). */
export interface PlanStep {
  /** Stable within the plan, e.g. "disable-service", "migrate:3f2c…". */
  id: string;
  title: string;
  /** The exact command(s) an operator would have typed for this step. */
  equivalent: string[];
  effect: Effect;
  /** What the step touches (hosts, instance UUIDs, tables), for the preview. */
  touches?: string[];
  /** Cleanup steps run even when an earlier step failed (inspect's unmount/resume). */
  always?: boolean;
}

/** A plan: built by a runbook's read-only plan(); shown to people; bound to approvals by its hash. */
export interface Plan {
  runbook: string;
  /** The main target, e.g. "c01" or an instance UUID. */
  target: string;
  /** Normalised arguments of the command. */
  args: Readonly<Record<string, unknown>>;
  /** Targets resolved by the read-only look-ups (instance UUIDs, service state, row counts). Part of the hash. */
  resolved: Readonly<Record<string, unknown>>;
  steps: PlanStep[];
  /** The strongest effect among the steps. */
  risk: Effect;
  summary: string;
  /** Lines worth a person's attention before approving (instances not ACTIVE, unsupported procedures). */
  warnings?: string[];
  /** sha256 over runbook, target, args, resolved and steps (see actions/plan-hash.ts). */
  hash: string;
}
