import { randomBytes } from 'node:crypto'
import { CommitTree } from './commit-tree.js'
import type { Step } from './commit-tree.js'
import { encodeCutoffs } from './cutoff.js'
import { commitId, committerRank } from './fork-choice.js'
import { GroupHistory } from './group-history.js'
import type { GroupMessage, KeptCommit } from './group-history.js'
import { InvalidGroupMessageError, peekMls } from './group.js'
import type { KithGroup } from './group.js'
import { dedupeRemovals, done, parseIntents, proposalsFor } from './intents.js'
import type { Intent, PendingIntent } from './intents.js'
import { TEXT_ID_BYTES, decodeTextBody, encodeTextBody, signText, verifyText } from './text.js'
import type { UnsignedText } from './text.js'
import type { Proposal } from 'ts-mls'

export type { Intent, PendingIntent } from './intents.js'
export type { GroupMessage, KeptCommit } from './group-history.js'
export { TOPIC_LABEL } from './commit-tree.js'

/** Where a replica starts besides its state (see {@link GroupReplica}). */
export interface ReplicaOptions {
  /** The topic secret of the state it starts from (later ones it works out itself). */
  topicSecret?: Uint8Array
  /** Intents kept from before (see {@link GroupReplica.intents}). */
  intents?: unknown
}

/** How many epochs back a competing commit can still win (the states kept to re-apply it). */
export const REORG_WINDOW = 32
/** How many of the chosen chain's commits are kept (and stored) for members that fell behind. */
export const KEPT_COMMITS = 64
/** Content waiting for its epoch, at most: a member can't make us hold unbounded junk. */
const MAX_PARKED = 4096

const ID_BYTES = TEXT_ID_BYTES
/** The first byte of application content: what it is. */
const TEXT = 0
const LEAVE_REQUEST = 1

/**
 * One member's replica of a group: the chain of commits it has chosen, the states along it,
 * the group's history, and what it still wants done. It applies Kith's ordering rules
 * (docs/groups.md): only admins commit; commits for an epoch race, and the fork-choice rule
 * (fork-choice.ts) decides, over whole branches; a member that applied a loser goes back and
 * applies the winner, and sends again what it had sent on the losing branch. Members ask the
 * committer to remove them (leave) with a request in the group's content, not an MLS proposal:
 * proposals would block everyone's sending until committed (RFC 9420, section 12.1.8).
 *
 * Transport-free: every method returns the MLS messages to publish to the group, and the
 * caller delivers messages in any order, late or twice.
 */
export class GroupReplica {
  /** Our state at each epoch of the chosen chain (the last REORG_WINDOW of them). */
  private readonly states = new Map<bigint, KithGroup>()
  /** Where each state came from: the id of the commit that made it (or 'start'). */
  private readonly origins = new Map<bigint, string>()
  /** The topic secret of each state. */
  private readonly topics = new Map<bigint, Uint8Array>()
  private readonly tree = new CommitTree()
  /** The chosen chain's commit at each epoch (the one building on it), the last KEPT_COMMITS: kept across restarts. */
  private readonly chainCommits = new Map<bigint, KeptCommit>()
  /** Changes to chainCommits not yet taken for storage (null: deleted). */
  private commitChanges = new Map<bigint, KeptCommit | null>()
  private readonly texts: GroupHistory
  /** Our own texts, to send again if the epoch they went out in is replaced. */
  private readonly mine = new Map<string, { text: UnsignedText, epoch: bigint }>()
  /** Content that could not be read yet (an epoch not reached, or a branch not chosen yet), by hash. */
  private readonly parked = new Map<string, { epoch: bigint, bytes: Uint8Array }>()
  /** Hashes of content read, with their epochs (kept while the epoch's state is): copies are dropped at once. */
  private readonly read = new Map<string, bigint>()
  /**
   * Members who asked to leave, by device, with the epoch from which the chain no longer has
   * them: kept REORG_WINDOW epochs more, so if a better commit brings one back, it is removed again.
   */
  private readonly leaving = new Map<string, bigint | undefined>()
  private pendingIntents: PendingIntent[]
  /** The state (epoch/origin) in which we last asked to leave. */
  private leaveAskedIn: string | undefined
  private headEpoch: bigint
  /** The commit that removed us, if the chosen chain has one (a better commit can still undo it). */
  private removal: { epoch: bigint, id: string } | undefined

  /**
   * @param joined - the epoch this member joined the group at (it was created or welcomed
   * there): catch-up hands it no texts from before
   * @param commits - the chain's commits kept from before (see {@link takeCommitChanges}), by epoch
   */
  constructor (group: KithGroup, readonly joined = group.epoch, commits: Iterable<[bigint, KeptCommit]> = [], options: ReplicaOptions = {}) {
    this.headEpoch = group.epoch
    this.states.set(group.epoch, group)
    this.origins.set(group.epoch, 'start')
    if (options.topicSecret != null) this.topics.set(group.epoch, options.topicSecret)
    for (const [epoch, bytes] of commits) if (epoch < group.epoch) this.chainCommits.set(epoch, bytes)
    this.pendingIntents = parseIntents(options.intents)
    const replica = this
    this.texts = new GroupHistory({
      get oldest () { return replica.oldest },
      isOnChain: (epoch, origin) => this.origins.get(epoch) === origin,
      commits: () => this.chainCommits.entries()
    })
  }

  /** What changed in the kept commits since the last call: to store (null: to delete), by epoch. */
  takeCommitChanges (): Array<[bigint, KeptCommit | null]> {
    const changes = [...this.commitChanges]
    this.commitChanges = new Map()
    return changes
  }

  /** What this member still wants done, or wants to see stay done: to store with the state, and hand back after a restart. */
  intents (): PendingIntent[] { return structuredClone(this.pendingIntents) }

  get head (): KithGroup { return this.states.get(this.headEpoch) as KithGroup }
  get removed (): boolean { return this.removal != null }
  /** The ids of the commits applied, oldest first (within the reorg window). */
  chain (): string[] { return [...this.origins.values()].filter(o => o !== 'start') }
  /** The history: what members read, less what removed members sent past their cut-off. */
  history (): GroupMessage[] { return this.texts.all() }
  /** A text of the history by id. */
  message (id: string): GroupMessage | undefined { return this.texts.get(id) }
  /** The texts added to the history since the last call that are in it now, oldest first. */
  takeFresh (): GroupMessage[] { return this.texts.takeFresh() }

  /** The topic secret of the head state: the gossipsub topic is named from it (see channel.ts). */
  get topicSecret (): Uint8Array | undefined { return this.topics.get(this.headEpoch) }
  /** The topic secret of this member's state at `epoch` (the head's when it has none there). */
  topicSecretAt (epoch: bigint): Uint8Array | undefined { return this.topics.get(epoch) ?? this.topicSecret }

  /** Give the replica its starting topic secret, when it was made without one. */
  useTopicSecret (secret: Uint8Array): void {
    for (const epoch of this.states.keys()) if (!this.topics.has(epoch)) this.topics.set(epoch, secret)
  }

  /**
   * The commits of the chosen chain from `epoch` to the head, oldest first, as far back as they
   * are kept: what a member that fell behind needs to catch up.
   */
  commitsSince (epoch: bigint): Uint8Array[] {
    const commits: Uint8Array[] = []
    for (let e = epoch; e < this.headEpoch; e++) {
      const kept = this.chainCommits.get(e)
      if (kept == null) break
      commits.push(kept.bytes)
    }
    return commits
  }

  /**
   * For a device that was a member at `epoch` and is not one now: the commits from `epoch` up
   * to the one that removed it (all it can read, and all it needs to learn it is out).
   */
  commitsUntilRemoved (epoch: bigint, device: string): Uint8Array[] {
    const commits: Uint8Array[] = []
    for (let e = epoch; e < this.headEpoch; e++) {
      const kept = this.chainCommits.get(e)
      if (kept == null) return []
      commits.push(kept.bytes)
      if (kept.removed.includes(device)) return commits
    }
    return []
  }

  /**
   * Apply a commit this member made outside its intents (adding members): as an admin's own
   * commit, by the same rules (it can still lose a race). Returns what to publish.
   */
  async adoptOwnCommit (group: KithGroup, commit: Uint8Array): Promise<Uint8Array[]> {
    const head = this.head
    const rank = committerRank(head, head.ownLeaf)
    if (rank == null) throw new InvalidGroupMessageError('only admins commit')
    await this.tree.own(this.headEpoch, this.origins.get(this.headEpoch) as string, head, rank, group, { id: commitId(commit), bytes: commit, authenticatedData: new Uint8Array(0) })
    return [commit, ...await this.settle()]
  }

  /**
   * Texts another member handed over in catch-up (or read back from storage), added when new;
   * returns the new ones in the history. (Our own stored texts need no sending again: a
   * restart keeps no state before the head, so no commit can replace the epochs they were sent in.)
   */
  merge (messages: GroupMessage[]): GroupMessage[] { return this.texts.merge(messages) }

  /** Send a text to the group, under a new id (`id`: 16 random bytes, hex; made here when absent). */
  async send (text: string, id = randomBytes(ID_BYTES).toString('hex')): Promise<Uint8Array[]> {
    if (this.removed) throw new InvalidGroupMessageError('no longer a member of this group')
    if (!/^[0-9a-f]{32}$/.test(id) || this.texts.has(id)) throw new InvalidGroupMessageError('a text id is 16 new random bytes, hex')
    const unsigned = { id, ts: Date.now(), text }
    this.mine.set(id, { text: unsigned, epoch: this.headEpoch })
    return [await this.encryptText(unsigned)]
  }

  /**
   * Ask for a change: admins commit it, other members ask the committer (leaving only). Asking
   * to leave again sends the request again (for committers who were offline).
   */
  async intend (intent: Intent): Promise<Uint8Array[]> {
    // A rename replaces any before it (waiting, or done but not final): the last name asked for is the one.
    if (intent.kind === 'rename') this.pendingIntents = this.pendingIntents.filter(p => p.intent.kind !== 'rename')
    if (intent.kind === 'leave') {
      this.leaveAskedIn = undefined
      this.pendingIntents = this.pendingIntents.filter(p => p.intent.kind !== 'leave')
    }
    this.pendingIntents.push({ intent })
    return await this.act()
  }

  /** Do what is ours to do now (after a restart: the intents kept from before). Returns what to publish. */
  async resume (): Promise<Uint8Array[]> { return await this.act() }

  /** Where this replica stands (head epoch, the commit that made it, removed or not): changes with every commit applied. */
  get position (): string { return `${this.headEpoch}/${this.origins.get(this.headEpoch) as string}/${this.removed}` }

  /**
   * Take in one message from the group: a commit, or content. Proposals are not used by Kith
   * members and are dropped.
   *
   * @throws {InvalidGroupMessageError} when it is malformed
   */
  async receive (bytes: Uint8Array): Promise<Uint8Array[]> {
    const { epoch, contentType } = peekMls(bytes)
    const hash = commitId(bytes)
    if (contentType === 'commit') {
      if (!this.tree.know(epoch, hash, bytes)) return []
      return await this.settle()
    }
    if (contentType !== 'application' || this.read.has(hash)) return []
    // Kept even when a commit removed us: a better commit for that epoch may still undo it.
    if (this.removed || !await this.readContent(epoch, bytes, hash)) {
      if (this.parked.size < MAX_PARKED) this.parked.set(hash, { epoch, bytes })
      return []
    }
    return await this.act()
  }

  /**
   * Read content with the state of its epoch, which we keep for REORG_WINDOW epochs (so a
   * committer reads late content of the epoch it committed from too). False when it can't be
   * read yet: from an epoch not reached, or sent on a branch we have not chosen (yet).
   */
  private async readContent (epoch: bigint, bytes: Uint8Array, hash: string): Promise<boolean> {
    const state = this.states.get(epoch)
    if (state == null) return false
    let processed
    try {
      processed = await state.process(bytes)
    } catch (err) {
      if (err instanceof InvalidGroupMessageError) return false
      throw err
    }
    if (processed.kind !== 'application') return false
    this.read.set(hash, epoch)
    this.states.set(epoch, processed.group)
    const { plaintext, sender, generation } = processed
    this.texts.noteGeneration(epoch, sender.device, generation)
    if (plaintext[0] === LEAVE_REQUEST) this.leaving.set(sender.device, undefined)
    // MLS has authenticated the sender; the signature inside must be its, for this epoch, so
    // that members who get the text later in catch-up can check it too.
    const signed = plaintext[0] === TEXT ? decodeTextBody(plaintext.subarray(1)) : undefined
    if (signed != null && !this.mine.has(signed.id) && verifyText(state.id, epoch, sender.device, signed)) {
      this.texts.read({ ...signed, sender: sender.device, epoch, generation }, this.origins.get(epoch) as string)
    }
    return true
  }

  /** Sign a text for the head epoch, encrypt it there, and add it to the history. */
  private async encryptText (text: UnsignedText): Promise<Uint8Array> {
    const signed = signText(this.head.id, this.headEpoch, this.head.state.signaturePrivateKey, text)
    const message = await this.encrypt(TEXT, encodeTextBody(signed))
    this.texts.add({ ...signed, sender: this.head.member(this.head.ownLeaf)?.device ?? '', epoch: this.headEpoch })
    return message
  }

  private async encrypt (type: number, body: Uint8Array): Promise<Uint8Array> {
    const { group, message } = await this.head.encrypt(Buffer.concat([Uint8Array.of(type), body]))
    this.states.set(this.headEpoch, group)
    return message
  }

  private get oldest (): bigint { return this.headEpoch - BigInt(this.states.size - 1) }

  /**
   * Choose the chain again from the oldest state we keep, and move onto it: where it differs
   * from what was applied, everything after is replaced; our own texts sent in replaced epochs
   * go out again.
   */
  private async settle (): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    const path = await this.tree.best(this.oldest, this.states.get(this.oldest) as KithGroup, this.origins.get(this.oldest) as string)
    let replacedFrom: bigint | undefined
    let epoch = this.oldest
    for (const step of path.steps) {
      const applied = this.applied(epoch)
      if (applied !== step.id) {
        if (applied != null) replacedFrom ??= epoch + 1n
        this.truncate(epoch)
        this.adopt(step)
      }
      epoch++
    }
    // The chosen chain can end before what was applied: those commits lost their standing.
    if (this.applied(epoch) != null) {
      replacedFrom ??= epoch + 1n
      this.truncate(epoch)
    }
    this.trim()
    if (this.removed) return out
    if (replacedFrom != null) {
      // The copies read stay, for when the chain comes back to where they were read.
      this.texts.replaced(replacedFrom, id => this.mine.has(id))
      // Our texts sent in replaced epochs: nobody on the chosen chain can read them.
      for (const sent of this.mine.values()) {
        if (sent.epoch < replacedFrom) continue
        sent.epoch = this.headEpoch
        out.push(await this.encryptText(sent.text))
      }
    }
    this.texts.review()
    // Content that waited for this chain.
    for (const [hash, { epoch, bytes }] of this.parked) {
      if (await this.readContent(epoch, bytes, hash)) this.parked.delete(hash)
    }
    out.push(...await this.act())
    return out
  }

  /** The commit applied on `epoch`'s state: the one that made the next, or the one that removed us. */
  private applied (epoch: bigint): string | undefined {
    return this.origins.get(epoch + 1n) ?? (this.removal?.epoch === epoch ? this.removal.id : undefined)
  }

  /** Drop what was applied after `epoch`. */
  private truncate (epoch: bigint): void {
    for (let e = epoch + 1n; e <= this.headEpoch; e++) {
      this.states.delete(e)
      this.origins.delete(e)
      this.topics.delete(e)
    }
    for (const e of this.chainCommits.keys()) if (e >= epoch) this.keepCommit(e, null)
    this.removal = undefined
    this.headEpoch = epoch
  }

  /** Apply a commit of the chosen chain at the head. */
  private adopt ({ epoch, id, outcome }: Step): void {
    if (outcome.processed.kind === 'removed') {
      this.removal = { epoch, id }
      return
    }
    this.states.set(epoch + 1n, outcome.processed.group)
    this.origins.set(epoch + 1n, id)
    const topic = outcome.topicSecret ?? this.topics.get(epoch)
    if (topic != null) this.topics.set(epoch + 1n, topic)
    const bytes = this.tree.bytes(epoch, id)
    this.keepCommit(epoch, bytes != null ? { bytes, removed: outcome.removed } : null)
    this.headEpoch = epoch + 1n
  }

  private keepCommit (epoch: bigint, kept: KeptCommit | null): void {
    if (kept == null) this.chainCommits.delete(epoch)
    else this.chainCommits.set(epoch, kept)
    this.commitChanges.set(epoch, kept)
    this.texts.chainChanged()
  }

  /** Keep REORG_WINDOW states, forget what is older (commits known, content parked); keep KEPT_COMMITS of the chain's commits. */
  private trim (): void {
    for (const epoch of [...this.states.keys()]) {
      if (epoch <= this.headEpoch - BigInt(REORG_WINDOW)) {
        this.states.delete(epoch)
        this.origins.delete(epoch)
        this.topics.delete(epoch)
      }
    }
    const oldest = this.oldest
    this.tree.forget(oldest)
    this.texts.trim(oldest)
    for (const [hash, { epoch }] of this.parked) if (epoch < oldest) this.parked.delete(hash)
    // Content of epochs older than the states kept can't be read again anyway: no need to remember it.
    for (const [hash, epoch] of this.read) if (epoch < oldest) this.read.delete(hash)
    for (const [id, { epoch }] of this.mine) if (epoch < oldest) this.mine.delete(id)
    for (const epoch of this.chainCommits.keys()) if (epoch < this.headEpoch - BigInt(KEPT_COMMITS)) this.keepCommit(epoch, null)
  }

  /**
   * Note which intents the chain shows done, and which a replaced commit had done (to do
   * again); forget those done long enough ago that nothing can replace them. Returns those to do.
   */
  private reviewIntents (): Intent[] {
    const head = this.head
    for (const p of this.pendingIntents) {
      if (p.done != null) {
        const epoch = BigInt(p.done.epoch)
        // Still on the chain, or before the states we keep (a restart): done.
        if (epoch < this.oldest || this.origins.get(epoch) === p.done.by) continue
        delete p.done
      }
      if (done(head, p.intent)) p.done = { epoch: Number(this.headEpoch), by: this.origins.get(this.headEpoch) as string }
    }
    this.pendingIntents = this.pendingIntents.filter(p => p.done == null || BigInt(p.done.epoch) > this.headEpoch - BigInt(REORG_WINDOW))
    return this.pendingIntents.filter(p => p.done == null).map(p => p.intent)
  }

  /**
   * Do what is ours to do at the head: ask to leave (once per state; the last admin first
   * hands over to another member); as an admin, commit our intents and the removal of members
   * who asked to leave. Every admin commits those removals: the fork-choice keeps the
   * lowest-ranked admin's, so whichever admin is online does it (the failover), and everyone
   * agrees which.
   */
  private async act (): Promise<Uint8Array[]> {
    if (this.removed) return []
    const head = this.head
    const own = head.ownLeaf
    const members = head.members()
    const open = this.reviewIntents()
    for (const [device, gone] of this.leaving) {
      if (members.some(m => m.device === device)) this.leaving.set(device, undefined)
      else if (gone == null) this.leaving.set(device, this.headEpoch)
      else if (gone <= this.headEpoch - BigInt(REORG_WINDOW)) this.leaving.delete(device)
    }
    const rank = committerRank(head, own)
    if (open.some(i => i.kind === 'leave')) {
      const lastAdmin = rank != null && !members.some(m => m.leaf !== own && head.isAdmin(m.leaf))
      if (lastAdmin) {
        // No one would be left to commit: make another member an admin first.
        const heir = members.find(m => m.leaf !== own)
        if (heir == null) return []
        return await this.commitProposals(rank, [head.promoteProposal(heir.identity)])
      }
      const here = `${this.headEpoch}/${this.origins.get(this.headEpoch) as string}`
      if (this.leaveAskedIn === here) return []
      this.leaveAskedIn = here
      return [await this.encrypt(LEAVE_REQUEST, randomBytes(ID_BYTES))]
    }
    if (rank == null) return []
    const requests = members.filter(m => m.leaf !== own && this.leaving.has(m.device)).map(m => ({ proposalType: 'remove' as const, remove: { removed: m.leaf } }))
    let proposals = dedupeRemovals([...open.flatMap(i => proposalsFor(head, i)), ...requests])
    if (proposals.length === 0) return []
    // A change of name or admins goes in a commit of its own (see KithGroup.commit), one at a
    // time; removals go first.
    const others = proposals.filter(p => p.proposalType !== 'group_context_extensions')
    proposals = others.length > 0 ? others : proposals.slice(0, 1)
    return await this.commitProposals(rank, proposals)
  }

  /** Commit at the head (a removal with its cut-offs, see cutoff.ts) and settle on it. */
  private async commitProposals (rank: number, proposals: Proposal[]): Promise<Uint8Array[]> {
    const head = this.head
    const removed = proposals.flatMap(p => p.proposalType === 'remove' ? [head.member(p.remove.removed)?.device ?? ''] : [])
    const cutoffs = removed.length > 0 ? encodeCutoffs(removed, this.oldest, this.headEpoch, (epoch, device) => this.texts.highestRead(epoch, device)) : undefined
    const { group, commit } = await head.commit(proposals, cutoffs)
    await this.tree.own(this.headEpoch, this.origins.get(this.headEpoch) as string, head, rank, group, { id: commitId(commit), bytes: commit, authenticatedData: cutoffs ?? new Uint8Array(0) })
    return [commit, ...await this.settle()]
  }
}
