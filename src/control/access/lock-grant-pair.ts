import type { Queryable } from '../gateway-settings/gateway-settings.js';

/** Any stable number: the advisory lock class of just-in-time grants ("jit"). */
const JIT_LOCK_CLASS = 0x6a6974;

/**
 * Serialises, until the transaction ends, everything that grants or revokes
 * one role for one user: an approval deciding whether to GRANT and an expiry
 * deciding whether to REVOKE must each see what the other committed.
 */
export async function lockGrantPair(
  client: Queryable,
  requesterOid: number,
  roleOid: number,
): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock($1, hashtext($2::text || '/' || $3::text))`, [
    JIT_LOCK_CLASS,
    requesterOid,
    roleOid,
  ]);
}
