/** Random ids for stored records: a prefix and 12 lower-case base32 characters (60 bits). */
import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(n: number): string {
  const bytes = randomBytes(n);
  let out = '';
  for (let i = 0; i < n; i++) out += ALPHABET[bytes[i]! & 31];
  return out;
}

/** `op-` + 12 base32 characters, matching core/values.ts operationId. */
export const newOperationId = (): string => `op-${base32(12)}`;
/** `ap-` + 12 base32 characters. */
export const newApprovalId = (): string => `ap-${base32(12)}`;
/** `sc-` + 12 base32 characters. */
export const newScheduleId = (): string => `sc-${base32(12)}`;
/** `in-` + 12 base32 characters (a watcher incident). */
export const newIncidentId = (): string => `in-${base32(12)}`;
