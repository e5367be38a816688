/** Times as people read them in a channel: UTC, and relative to now ("in 3 h", "12 min ago"). */

/** `2026-12-01 02:00 UTC` (seconds only when they are not zero). */
export function utcText(ms: number): string {
  const iso = new Date(ms).toISOString();
  const secs = iso.slice(17, 19);
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}${secs === '00' ? '' : `:${secs}`} UTC`;
}

/** "in 3 h", "in 1 h 30 min", "in 12 min", "in 40 s", "now", "5 min ago". */
export function relativeTime(at: number, now: number): string {
  const d = at - now;
  const abs = Math.abs(d);
  if (abs < 1000) return 'now';
  const s = Math.round(abs / 1000);
  const min = Math.round(s / 60);
  let text: string;
  if (s < 60) text = `${s} s`;
  else if (min < 60) text = `${min} min`;
  else if (min < 24 * 60) {
    const h = Math.floor(min / 60);
    text = min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  } else {
    const hours = Math.round(min / 60);
    const days = Math.floor(hours / 24);
    text = hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
  }
  return d > 0 ? `in ${text}` : `${text} ago`;
}
