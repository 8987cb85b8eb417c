import type { KithGroup } from './group.js'
import type { Proposal } from 'ts-mls'

/** Something this member wants done to the group; kept until the chosen chain shows it done. */
export type Intent =
  | { kind: 'rename', name: string }
  /** Make a member's user (identity fingerprint) an admin. */
  | { kind: 'promote', who: string }
  /** Remove a user (identity fingerprint) or one device (peer id). */
  | { kind: 'remove', who: string }
  | { kind: 'leave' }

/**
 * An intent as kept (and stored, so a restart loses none): `done` says where the chain showed
 * it done (the epoch and the commit that made that state). It is kept REORG_WINDOW epochs
 * after, so if a better commit replaces that one, it is committed again on the chosen chain.
 */
export interface PendingIntent { intent: Intent, done?: { epoch: number, by: string } }

/** Whether `group`'s state shows `intent` done (a leave is done when the chain removes us, which stops the replica). */
export function done (group: KithGroup, intent: Intent): boolean {
  if (intent.kind === 'rename') return group.meta().name === intent.name
  if (intent.kind === 'promote') return group.meta().admins.includes(intent.who) || !group.members().some(m => m.identity === intent.who)
  if (intent.kind === 'remove') return !group.members().some(m => m.device === intent.who || m.identity === intent.who)
  return false
}

/** The proposals an admin commits for `intent` at `group`'s state. */
export function proposalsFor (group: KithGroup, intent: Intent): Proposal[] {
  if (intent.kind === 'remove') {
    // Never ourselves: a committer can't remove itself (we leave instead).
    return group.members().filter(m => m.leaf !== group.ownLeaf && (m.device === intent.who || m.identity === intent.who)).map(m => ({ proposalType: 'remove' as const, remove: { removed: m.leaf } }))
  }
  if (intent.kind === 'rename') return [group.renameProposal(intent.name)]
  if (intent.kind === 'promote') return [group.promoteProposal(intent.who)]
  return []
}

/** One removal per leaf: a commit may not remove a member twice. */
export function dedupeRemovals (proposals: Proposal[]): Proposal[] {
  const removed = new Set<number>()
  return proposals.filter(p => {
    if (p.proposalType !== 'remove') return true
    if (removed.has(p.remove.removed)) return false
    removed.add(p.remove.removed)
    return true
  })
}

/**
 * Intents read back from storage, checked (the store is ours and sealed, but a damaged or
 * older record must not stop the group from opening): what does not parse is dropped.
 */
export function parseIntents (value: unknown): PendingIntent[] {
  if (!Array.isArray(value)) return []
  return value.slice(0, 256).filter((p): p is PendingIntent => {
    const intent = p?.intent
    const valid = intent?.kind === 'leave' || (intent?.kind === 'rename' && typeof intent.name === 'string') || ((intent?.kind === 'promote' || intent?.kind === 'remove') && typeof intent.who === 'string')
    return valid && (p.done == null || (Number.isSafeInteger(p.done.epoch) && typeof p.done.by === 'string'))
  })
}
