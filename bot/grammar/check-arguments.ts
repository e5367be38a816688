/**
 * The tokens after the verb, checked against one command's spec: every value through its schema,
 * and every unknown, duplicate, missing, extra or conflicting argument reported, each with what was
 * expected and, for typos, the closest known name. Returns the normalised args (defaults filled in)
 * and the problems; the args are only meaningful when there are none.
 */
import type { Problem } from '../../core/errors.js';
import type { CommandSpec, ValueType } from '../../engine/spec/command-spec.js';
import { showValue } from './show-value.js';
import { closest } from './suggest.js';
import { type OptionToken, type Token, type WordToken, quoteValue } from './tokenize.js';

function validate(type: ValueType, raw: string): { ok: true; value: unknown } | { ok: false; message: string } {
  const r = type.schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]?.message ?? `expected ${type.expected}`;
  const guess = type.choices ? closest(raw, type.choices) : undefined;
  return { ok: false, message: `got ${showValue(raw)}: ${issue}${guess ? ` (did you mean ${guess}?)` : ''}` };
}

function optionList(spec: CommandSpec): string {
  const names = [...spec.options.map((o) => `${o.name}=`), ...spec.flags.map((f) => f.name)];
  return names.length ? names.join(', ') : 'none';
}

function unknownOption(spec: CommandSpec, t: OptionToken): Problem {
  const flagNamed = spec.flags.find((f) => f.name === t.key);
  if (flagNamed) return { path: t.key, message: `${t.key} is a flag: write it on its own, without "=${t.value}"` };
  const guess = closest(t.key, [...spec.options.map((o) => o.name), ...spec.flags.map((f) => f.name)]);
  const hint = guess ? ` Did you mean ${spec.options.some((o) => o.name === guess) ? `${guess}=` : guess}?` : '';
  return { path: t.key, message: `unknown option "${t.key}=".${hint} This command takes: ${optionList(spec)}` };
}

/** What an extra word probably meant: a flag or option name mistyped, or an option without "=". */
function extraWordHint(spec: CommandSpec, w: WordToken): string {
  const word = w.text.toLowerCase();
  const option = spec.options.find((o) => o.name === word);
  if (option) return ` Did you mean ${option.name}=${option.type.placeholder}?`;
  const guess = closest(word, [...spec.flags.map((f) => f.name), ...spec.options.map((o) => `${o.name}=`)]);
  return guess ? ` Did you mean ${guess}${guess.endsWith('=') ? '…' : ''}?` : '';
}

function positionalSummary(spec: CommandSpec): string {
  const n = spec.positionals.length;
  return n === 0 ? 'no arguments' : `${n} argument${n > 1 ? 's' : ''} (${spec.positionals.map((p) => `<${p.name}>`).join(' ')})`;
}

/** Checks `tokens` (everything after the verb) against `spec`. */
export function checkArguments(spec: CommandSpec, tokens: readonly Token[]): { args: Record<string, unknown>; problems: Problem[] } {
  const args: Record<string, unknown> = {};
  const problems: Problem[] = [];
  const given = new Map<string, OptionToken>();
  const flagsSeen = new Set<string>();
  const positionals: { token: WordToken; index: number }[] = [];

  tokens.forEach((t, index) => {
    if (t.kind === 'option') {
      const o = spec.options.find((x) => x.name === t.key);
      if (!o) return void problems.push(unknownOption(spec, t));
      if (given.has(o.name)) return void problems.push({ path: o.name, message: `${o.name}= is given twice; give it once` });
      given.set(o.name, t);
      const r = validate(o.type, t.value);
      if (r.ok) args[o.key] = r.value;
      else problems.push({ path: o.name, message: r.message });
      return;
    }
    const f = t.quoted ? undefined : spec.flags.find((x) => x.name === t.text.toLowerCase());
    if (f) {
      if (flagsSeen.has(f.name)) problems.push({ path: f.name, message: `${f.name} is given twice; give it once` });
      flagsSeen.add(f.name);
      return;
    }
    positionals.push({ token: t, index });
  });

  spec.positionals.forEach((p, i) => {
    const got = positionals[i];
    if (!got) return void problems.push({ path: p.name, message: `missing <${p.name}>: expected ${p.type.expected}` });
    const r = validate(p.type, got.token.text);
    if (r.ok) args[p.key] = r.value;
    else problems.push({ path: p.name, message: r.message });
  });

  // Extra words: those right after an unquoted option usually are the rest of a value with spaces.
  const extra = positionals.slice(spec.positionals.length);
  for (let i = 0; i < extra.length;) {
    const start = extra[i]!;
    let j = i + 1;
    while (j < extra.length && extra[j]!.index === extra[j - 1]!.index + 1) j++;
    const before = tokens[start.index - 1];
    if (before?.kind === 'option' && !before.quoted) {
      const whole = [before.value, ...extra.slice(i, j).map((e) => e.token.text)].join(' ');
      problems.push({
        path: before.key,
        message: `${before.key}= is followed by ${showValue(
          extra
            .slice(i, j)
            .map((e) => e.token.text)
            .join(' '),
        )}: quote a value with spaces, e.g. ${before.key}=${quoteValue(whole)}`,
      });
    } else {
      for (const e of extra.slice(i, j)) {
        problems.push({
          path: 'args',
          message: `unexpected ${showValue(e.token.text)}: this command takes ${positionalSummary(spec)}.${extraWordHint(spec, e.token)}`,
        });
      }
    }
    i = j;
  }

  for (const o of spec.options) {
    if (o.required && !given.has(o.name)) problems.push({ path: o.name, message: `missing ${o.name}=${o.type.placeholder}: expected ${o.type.expected}` });
    if (!given.has(o.name) && o.default !== undefined) args[o.key] = o.default;
  }
  for (const f of spec.flags) args[f.key] = flagsSeen.has(f.name);

  for (const group of spec.exclusive) {
    const present = group.filter((n) => given.has(n));
    if (present.length > 1) problems.push({ path: present[1]!, message: `${present.map((n) => `${n}=`).join(' and ')} exclude each other; give one` });
  }

  if (problems.length === 0 && spec.check) problems.push(...spec.check(args));
  // Keys in the table's order (positionals, options, flags), whatever order they were typed in.
  const ordered: Record<string, unknown> = {};
  for (const k of [...spec.positionals, ...spec.options, ...spec.flags].map((x) => x.key)) if (k in args) ordered[k] = args[k];
  return { args: ordered, problems };
}
