import { decodeCutoffs } from './cutoff.js'
import { choose, committerRank } from './fork-choice.js'
import type { Branch } from './fork-choice.js'
import { InvalidGroupMessageError } from './group.js'
import type { GroupMember, KithGroup, Processed } from './group.js'

/** The exporter label of a group's topic secret, worked out anew by every commit that removes someone. */
export const TOPIC_LABEL = 'kith/group-topic'
/** Commits kept for one epoch at most: a member can't make us hold (and try) unbounded junk. */
const MAX_KNOWN_PER_EPOCH = 256

/** A valid commit applied to a state: what the fork choice compares and what adopting it takes. */
export interface Outcome {
  rank: number
  processed: Extract<Processed, { kind: 'commit' | 'removed' }>
  /** The devices it removed and the users it demoted. */
  removed: string[]
  demoted: string[]
  /** The topic secret from its epoch on when it removed someone (else the one before stays). */
  topicSecret?: Uint8Array
}

/** One commit of a path: the epoch it builds on, its id and what it does there. */
export interface Step { epoch: bigint, id: string, outcome: Outcome }
/** A branch with its commits, first to last. */
export interface Path extends Branch { steps: Step[] }
const END: Path = { id: '', rank: Infinity, committer: { device: '', identity: '' }, length: 0, removes: new Set(), demotes: new Set(), steps: [] }

/**
 * The commits a member has seen, by the epoch they build on, and what each does to the states
 * it was tried on (cached: a commit is processed once per state). From a state, it finds the
 * chain the fork-choice rule ({@link choose}) picks, comparing whole branches.
 */
export class CommitTree {
  private readonly known = new Map<bigint, Map<string, Uint8Array>>()
  /** By epoch: `${origin}/${commit}` → outcome, or null when invalid on the state `origin` made. */
  private readonly outcomes = new Map<bigint, Map<string, Outcome | null>>()

  /** Note a commit that builds on `epoch`; false when it is known already, or too many are (ours always go in). */
  know (epoch: bigint, id: string, commit: Uint8Array, own = false): boolean {
    let forEpoch = this.known.get(epoch)
    if (forEpoch == null) this.known.set(epoch, forEpoch = new Map())
    if (forEpoch.has(id) || (!own && forEpoch.size >= MAX_KNOWN_PER_EPOCH)) return false
    forEpoch.set(id, commit)
    return true
  }

  /** A known commit's bytes. */
  bytes (epoch: bigint, id: string): Uint8Array | undefined { return this.known.get(epoch)?.get(id) }

  /**
   * Note our own commit on `parent` (at `epoch`, made by `origin`) as made: committers never
   * process their own, its outcome is the state it made.
   */
  async own (epoch: bigint, origin: string, parent: KithGroup, rank: number, group: KithGroup, commit: { id: string, bytes: Uint8Array, authenticatedData: Uint8Array }): Promise<void> {
    this.know(epoch, commit.id, commit.bytes, true)
    const processed = { kind: 'commit' as const, group, committer: parent.member(parent.ownLeaf) as GroupMember, authenticatedData: commit.authenticatedData }
    this.outcomesAt(epoch).set(`${origin}/${commit.id}`, await describe(parent, processed, rank))
  }

  /**
   * The chain the rule picks from `state` (at `epoch`, made by `origin`): each valid commit
   * known for the epoch, with the best chain after it, compared as whole branches.
   */
  async best (epoch: bigint, state: KithGroup, origin: string): Promise<Path> {
    const options: Path[] = []
    for (const [id, bytes] of this.known.get(epoch) ?? []) {
      const outcome = await this.outcome(epoch, origin, id, state, bytes)
      if (outcome == null) continue
      // A commit that removes us ends what we can see of its branch.
      const rest = outcome.processed.kind === 'removed' ? undefined : await this.best(epoch + 1n, outcome.processed.group, id)
      options.push({
        id,
        rank: outcome.rank,
        committer: outcome.processed.committer,
        length: rest == null ? Infinity : 1 + rest.length,
        removes: new Set([...outcome.removed, ...rest?.removes ?? []]),
        demotes: new Set([...outcome.demoted, ...rest?.demotes ?? []]),
        steps: [{ epoch, id, outcome }, ...rest?.steps ?? []]
      })
    }
    return choose(options) ?? END
  }

  /** Forget the commits that build on epochs before `oldest` (no state is kept there to try them on). */
  forget (oldest: bigint): void {
    for (const map of [this.known, this.outcomes]) for (const epoch of map.keys()) if (epoch < oldest) map.delete(epoch)
  }

  private outcomesAt (epoch: bigint): Map<string, Outcome | null> {
    let forEpoch = this.outcomes.get(epoch)
    if (forEpoch == null) this.outcomes.set(epoch, forEpoch = new Map())
    return forEpoch
  }

  private async outcome (epoch: bigint, origin: string, id: string, state: KithGroup, bytes: Uint8Array): Promise<Outcome | null> {
    const forEpoch = this.outcomesAt(epoch)
    const key = `${origin}/${id}`
    let outcome = forEpoch.get(key)
    if (outcome === undefined) forEpoch.set(key, outcome = await evaluate(state, bytes))
    return outcome
  }
}

/** What a processed commit did to `parent`, with its committer's rank there. */
async function describe (parent: KithGroup, processed: Outcome['processed'], rank: number): Promise<Outcome> {
  const after = new Set(processed.group.members().map(m => m.device))
  const removed = parent.members().map(m => m.device).filter(d => !after.has(d))
  const admins = processed.kind === 'commit' ? processed.group.meta().admins : parent.meta().admins
  const demoted = parent.meta().admins.filter(a => !admins.includes(a))
  // Removed members can't work out the next topic: the group moves to it.
  const topicSecret = processed.kind === 'commit' && removed.length > 0 ? await processed.group.exportSecret(TOPIC_LABEL) : undefined
  return { rank, processed, removed, demoted, ...(topicSecret != null ? { topicSecret } : {}) }
}

/** A commit applied to `state`, with its committer's rank; null when it does not apply there. */
async function evaluate (state: KithGroup, bytes: Uint8Array): Promise<Outcome | null> {
  try {
    const processed = await state.process(bytes)
    if (processed.kind !== 'commit' && processed.kind !== 'removed') return null
    const rank = committerRank(state, processed.committer.leaf)
    if (rank == null) return null
    const outcome = await describe(state, processed, rank)
    // A removal's cut-offs must be readable: a commit whose are not is not valid.
    if (outcome.removed.length > 0) decodeCutoffs(processed.authenticatedData)
    return outcome
  } catch (err) {
    if (err instanceof InvalidGroupMessageError) return null
    throw err
  }
}
