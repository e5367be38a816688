/** Renders the `/ip check` answer (pure): what answered, or why nothing did, and how long it took. */
import type { IpCheckAnswer } from '../../actions/ip/check.js';
import { code, context, escapeMrkdwn, section } from './block-kit.js';
import type { Rendered } from './render-plan.js';

const WHY: Record<Exclude<IpCheckAnswer['outcome'], 'open'>, string> = {
  refused: 'refused: the host answered, nothing listens on that port',
  'timed-out': 'timed out after 2 s: no answer (host down, filtered, or the address is not in use)',
  unreachable: 'unreachable: no route to the address',
  error: 'failed',
};

export function renderIpCheck(a: IpCheckAnswer): Rendered {
  const where = `${a.ip.includes(':') ? `[${a.ip}]` : a.ip}:${a.port}`;
  const text =
    a.outcome === 'open'
      ? `:large_green_circle: ${where} is open (connected in ${a.ms} ms)${a.banner ? `; banner: ${escapeMrkdwn(a.banner)}` : '; no banner within 1 s'}`
      : `:red_circle: ${where} ${WHY[a.outcome]} (${a.ms} ms${a.code ? `, ${a.code}` : ''})`;
  const body =
    a.outcome === 'open'
      ? `:large_green_circle: ${code(where)} is *open* (connected in ${a.ms} ms)\n${a.banner ? `Banner: ${code(a.banner)}` : 'No banner within 1 s.'}`
      : `:red_circle: ${code(where)} ${escapeMrkdwn(WHY[a.outcome])} (${a.ms} ms${a.code ? `, ${a.code}` : ''})`;
  const origin = a.from ? `From ${code(a.from)} over SSH (times measured on the node)` : 'From the bot';
  return { text: a.from ? `${text} — from ${a.from}` : text, blocks: [section(body), context(`${origin} · equivalent: ${code(a.equivalent)}`)] };
}
