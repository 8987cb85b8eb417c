import { createHash } from 'node:crypto'
import type { KithGroup } from './group.js'

/**
 * Kith's rule for commits that race for one epoch (docs/groups.md, "Ordering"). Every member
 * applies it to the same inputs (the epoch's state and the commits it knows for that epoch),
 * so every member that has seen the same commits picks the same one.
 */

/** A commit's id: the SHA-256 of its MLS bytes, hex. */
export function commitId (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * Where a member stands in the committer order of `group`'s epoch: admins' devices by leaf
 * index, first to last. Non-admins have no rank (they never commit).
 */
export function committerRank (group: KithGroup, leaf: number): number | undefined {
  const admins = group.meta().admins
  const order = group.members().filter(m => admins.includes(m.identity)).map(m => m.leaf)
  const rank = order.indexOf(leaf)
  return rank >= 0 ? rank : undefined
}

/** A valid commit for an epoch, with what the rule compares. */
export interface Candidate { id: string, rank: number }

/**
 * The winner among valid commits for one epoch: the lowest committer rank, then the lowest
 * commit id. Undefined when there are none.
 */
export function winner<C extends Candidate> (candidates: Iterable<C>): C | undefined {
  let best: C | undefined
  for (const c of candidates) {
    if (best == null || c.rank < best.rank || (c.rank === best.rank && c.id < best.id)) best = c
  }
  return best
}
