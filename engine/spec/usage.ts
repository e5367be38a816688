/**
 * Usage lines of a command spec, with the slash commands as configured. A runbook's `usage` and the
 * grammar's help and errors all come from here, so they cannot drift apart.
 */
import type { CommandFamily } from '../../core/types.js';
import type { CommandSpec } from './command-spec.js';

/** Configured slash command per family, e.g. { node: '/os-node' }; missing families use the default. */
export type CommandNames = Partial<Record<CommandFamily, string>>;

/** The slash command of a family, as configured ("/node" by default). */
export function slashOf(family: CommandFamily, names: CommandNames = {}): string {
  return names[family] ?? `/${family}`;
}

/** The usage line of a command, e.g. `/node undrain <host> [migrate-back]`. */
export function usageOf(spec: CommandSpec, names: CommandNames = {}): string {
  const parts: string[] = [slashOf(spec.family, names), ...spec.words];
  for (const p of spec.positionals) parts.push(`<${p.name}>`);
  for (const o of spec.options) if (o.required) parts.push(`${o.name}=${o.type.placeholder}`);
  const grouped = new Set(spec.exclusive.flat());
  for (const o of spec.options) {
    if (o.required || grouped.has(o.name)) continue;
    parts.push(`[${o.name}=${o.type.placeholder}]`);
  }
  for (const group of spec.exclusive) {
    const alts = group.map((n) => spec.options.find((o) => o.name === n)).filter((o) => o !== undefined);
    parts.push(`[${alts.map((o) => `${o.name}=${o.type.placeholder}`).join(' | ')}]`);
  }
  for (const f of spec.flags) parts.push(`[${f.name}]`);
  return parts.join(' ');
}
