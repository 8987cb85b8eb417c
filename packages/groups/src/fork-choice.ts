import { createHash } from 'node:crypto'
import type { KithGroup } from './group.js'

/**
 * Kith's rule for commits that race for one epoch (docs/groups.md, "Ordering"). Every member
 * applies it to the same inputs (the epoch's state and the commits it knows from there on), so
 * every member that has seen the same commits picks the same chain.
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

/**
 * One way the chain can go on from an epoch: a valid commit for it (its `id`, its committer
 * and the committer's `rank` there) and the chain the same rule chooses after it.
 */
export interface Branch {
  id: string
  rank: number
  committer: { device: string, identity: string }
  /** How many commits long it is; `Infinity` when it removes the member judging (who can see no further). */
  length: number
  /** Devices it removes and users it takes admin rights from, anywhere along it. */
  removes: ReadonlySet<string>
  demotes: ReadonlySet<string>
}

/** Whether `branch` removes `committer`'s device or takes its user's admin rights. */
export function revokes (branch: Branch, committer: Branch['committer']): boolean {
  return branch.removes.has(committer.device) || branch.demotes.has(committer.identity)
}

/** Lower rank, then lower commit id: who goes first when only rank can tell. */
function senior (a: Branch, b: Branch): boolean {
  return a.rank !== b.rank ? a.rank < b.rank : a.id < b.id
}

/**
 * The branch every member follows, among the valid commits for one epoch:
 *
 * 1. **Revoked commits don't count.** A commit whose committer another branch removes or
 *    demotes is out, so an admin removed (or demoted) on a competing chain can't bring that
 *    chain down by committing with its old state. When two branches revoke each other's
 *    committer (two admins removing each other at once), the senior one (lower rank) stays.
 * 2. **The longer branch wins**, so a stale commit for an old epoch (an admin that was
 *    offline, or restored from an old copy) rolls nobody back: the chain has moved on past it.
 * 3. Then the **lowest committer rank**, then the **lowest commit id**.
 *
 * Undefined when there is none. A pure function of its input, whatever the order.
 */
export function choose<B extends Branch> (branches: readonly B[]): B | undefined {
  const standing = branches.filter(a => !branches.some(b => b !== a && revokes(b, a.committer) && !(revokes(a, b.committer) && senior(a, b))))
  let best: B | undefined
  for (const b of standing) {
    if (best == null || b.length > best.length || (b.length === best.length && senior(b, best))) best = b
  }
  return best
}
