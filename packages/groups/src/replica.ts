import { randomBytes } from 'node:crypto'
import { commitId, committerRank, winner } from './fork-choice.js'
import { InvalidGroupMessageError, peekMls } from './group.js'
import type { GroupMember, KithGroup, Processed } from './group.js'
import { TEXT_ID_BYTES, decodeTextBody, encodeTextBody, signText } from './text.js'
import type { SignedText } from './text.js'
import type { Proposal } from 'ts-mls'

/**
 * A group message as members read it. `id` is chosen by the sender: a re-send after a lost
 * commit race keeps it, so copies collapse. `signature` lets members who get it in catch-up
 * check the sender wrote it (see text.ts).
 */
export interface GroupMessage extends SignedText {
  /** The sender's device (peer id). */
  sender: string
  /** The epoch it was read in. */
  epoch: bigint
}

/** A commit of the chosen chain, kept for members that fell behind, with the devices it removed. */
export interface KeptCommit { bytes: Uint8Array, removed: string[] }

/** Something this member wants done to the group; kept until the chosen chain shows it done. */
export type Intent =
  | { kind: 'rename', name: string }
  /** Make a member's user (identity fingerprint) an admin. */
  | { kind: 'promote', who: string }
  /** Remove a user (identity fingerprint) or one device (peer id). */
  | { kind: 'remove', who: string }
  | { kind: 'leave' }

/** How many epochs back a competing commit can still win (the states kept to re-apply it). */
export const REORG_WINDOW = 32
/** How many of the chosen chain's commits are kept (and stored) for members that fell behind. */
export const KEPT_COMMITS = 64

const ID_BYTES = TEXT_ID_BYTES
/** The first byte of application content: what it is. */
const TEXT = 0
const LEAVE_REQUEST = 1

/**
 * One member's replica of a group: the chain of commits it has chosen, the states along it,
 * the group's history, and what it still wants done. It applies Kith's ordering rules
 * (docs/groups.md): only admins commit; commits for an epoch race, and the fork-choice
 * {@link winner} decides; a member that applied a loser goes back and applies the winner, and
 * sends again what it had sent on the losing branch. Members ask the committer to remove them
 * (leave) with a request in the group's content, not an MLS proposal: proposals would block
 * everyone's sending until committed (RFC 9420, section 12.1.8).
 *
 * Transport-free: every method returns the MLS messages to publish to the group, and the
 * caller delivers messages in any order, late or twice.
 */
export class GroupReplica {
  /** Our state at each epoch of the chosen chain (the last REORG_WINDOW of them). */
  private readonly states = new Map<bigint, KithGroup>()
  /** Where each state came from: the id of the commit that made it (or 'start'). */
  private readonly origins = new Map<bigint, string>()
  /** Commits seen, by the epoch they build on. */
  private readonly known = new Map<bigint, Map<string, Uint8Array>>()
  /** The chosen chain's commit at each epoch (the one building on it), the last KEPT_COMMITS: kept across restarts. */
  private readonly chainCommits = new Map<bigint, KeptCommit>()
  /** Changes to chainCommits not yet taken for storage (null: deleted). */
  private commitChanges = new Map<bigint, KeptCommit | null>()
  /** Commits applied to a state: `${origin}/${commit}` → result, or null when invalid there. */
  private readonly outcomes = new Map<string, { rank: number, processed: Processed } | null>()
  private readonly messages = new Map<string, GroupMessage>()
  /** Texts added to the history since the last {@link takeFresh}. */
  private fresh: GroupMessage[] = []
  /** Our own texts, to send again if the epoch they went out in is replaced. */
  private readonly mine = new Map<string, { signed: SignedText, epoch: bigint }>()
  /** Content that could not be read yet (an epoch not reached, or a branch not chosen yet), by hash. */
  private readonly parked = new Map<string, { epoch: bigint, bytes: Uint8Array }>()
  /** Hashes of content read, with their epochs (kept while the epoch's state is): copies are dropped at once. */
  private readonly read = new Map<string, bigint>()
  /** Members who asked to leave, by device. */
  private readonly leaving = new Set<string>()
  private intents: Intent[] = []
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
  constructor (group: KithGroup, readonly joined = group.epoch, commits: Iterable<[bigint, KeptCommit]> = []) {
    this.headEpoch = group.epoch
    this.states.set(group.epoch, group)
    this.origins.set(group.epoch, 'start')
    for (const [epoch, bytes] of commits) if (epoch < group.epoch) this.chainCommits.set(epoch, bytes)
  }

  /** What changed in the kept commits since the last call: to store (null: to delete), by epoch. */
  takeCommitChanges (): Array<[bigint, KeptCommit | null]> {
    const changes = [...this.commitChanges]
    this.commitChanges = new Map()
    return changes
  }

  get head (): KithGroup { return this.states.get(this.headEpoch) as KithGroup }
  get removed (): boolean { return this.removal != null }
  /** The ids of the commits applied, oldest first (within the reorg window). */
  chain (): string[] { return [...this.origins.values()].filter(o => o !== 'start') }
  history (): GroupMessage[] { return [...this.messages.values()] }
  /** A text of the history by id. */
  message (id: string): GroupMessage | undefined { return this.messages.get(id) }

  /** The texts added to the history since the last call that are still in it, oldest first. */
  takeFresh (): GroupMessage[] {
    const fresh = this.fresh.filter(m => this.messages.get(m.id) === m)
    this.fresh = []
    return fresh
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
    const id = commitId(commit)
    this.know(this.headEpoch, id, commit)
    this.outcomes.set(`${this.origins.get(this.headEpoch) as string}/${id}`, { rank, processed: { kind: 'commit', group, committer: head.member(head.ownLeaf) as GroupMember } })
    return [commit, ...await this.settle()]
  }

  /** Texts another member handed over in catch-up, added when new; returns the new ones. */
  merge (messages: GroupMessage[]): GroupMessage[] {
    const added = messages.filter(m => !this.messages.has(m.id))
    for (const m of added) this.addMessage(m)
    return added
  }

  /** Send a text to the group, under a new id (`id`: 16 random bytes, hex; made here when absent). */
  async send (text: string, id = randomBytes(ID_BYTES).toString('hex')): Promise<Uint8Array[]> {
    if (this.removed) throw new InvalidGroupMessageError('no longer a member of this group')
    if (!/^[0-9a-f]{32}$/.test(id) || this.messages.has(id)) throw new InvalidGroupMessageError('a text id is 16 new random bytes, hex')
    const signed = signText(this.head.id, this.head.state.signaturePrivateKey, { id, ts: Date.now(), text })
    this.mine.set(id, { signed, epoch: this.headEpoch })
    return [await this.encryptText(signed)]
  }

  /**
   * Ask for a change: admins commit it, other members ask the committer (leaving only). Asking
   * to leave again sends the request again (for committers who were offline).
   */
  async intend (intent: Intent): Promise<Uint8Array[]> {
    // A rename replaces one still waiting (a commit carries one).
    if (intent.kind === 'rename') this.intents = this.intents.filter(i => i.kind !== 'rename')
    if (intent.kind === 'leave') {
      this.leaveAskedIn = undefined
      this.intents = this.intents.filter(i => i.kind !== 'leave')
    }
    this.intents.push(intent)
    return await this.act()
  }

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
      this.know(epoch, hash, bytes)
      return await this.settle()
    }
    if (contentType !== 'application' || this.read.has(hash)) return []
    // Kept even when a commit removed us: a better commit for that epoch may still undo it.
    if (this.removed || !await this.readContent(epoch, bytes, hash)) {
      this.parked.set(hash, { epoch, bytes })
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
    const { plaintext } = processed
    if (plaintext[0] === LEAVE_REQUEST) this.leaving.add(processed.sender.device)
    // MLS has authenticated the sender; the signature inside is kept for catch-up (checked there).
    const signed = plaintext[0] === TEXT ? decodeTextBody(plaintext.subarray(1)) : undefined
    if (signed != null && !this.messages.has(signed.id)) this.addMessage({ ...signed, sender: processed.sender.device, epoch })
    return true
  }

  private async encryptText (signed: SignedText): Promise<Uint8Array> {
    const message = await this.encrypt(TEXT, encodeTextBody(signed))
    this.addMessage({ ...signed, sender: this.ownDevice(), epoch: this.headEpoch })
    return message
  }

  private addMessage (m: GroupMessage): void {
    this.messages.set(m.id, m)
    this.fresh.push(m)
  }

  private async encrypt (type: number, body: Uint8Array): Promise<Uint8Array> {
    const { group, message } = await this.head.encrypt(Buffer.concat([Uint8Array.of(type), body]))
    this.states.set(this.headEpoch, group)
    return message
  }

  private ownDevice (): string {
    return this.head.member(this.head.ownLeaf)?.device ?? ''
  }

  /**
   * Re-walk the chain from the oldest epoch we keep: at each epoch apply the winner among the
   * commits known for it. When the winner differs from what was applied, everything after it
   * is replaced; our own texts sent in replaced epochs go out again.
   */
  private async settle (): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    const from = this.headEpoch - BigInt(this.states.size - 1)
    let replacedFrom: bigint | undefined
    for (let epoch = from; ; epoch++) {
      const state = this.states.get(epoch)
      if (state == null) break
      const best = winner(await this.candidates(epoch, state))
      if (best == null) break
      const applied = this.origins.get(epoch + 1n) ?? (this.removal?.epoch === epoch ? this.removal.id : undefined)
      if (applied === best.id) {
        if (this.removal?.epoch === epoch) break
        continue
      }
      // A different commit wins here: drop the states after this epoch and take the winner's.
      replacedFrom ??= epoch + 1n
      for (let e = epoch + 1n; e <= this.headEpoch; e++) { this.states.delete(e); this.origins.delete(e) }
      for (const e of this.chainCommits.keys()) if (e >= epoch) this.keepCommit(e, null)
      this.removal = undefined
      this.headEpoch = epoch
      if (best.processed.kind === 'removed') {
        this.removal = { epoch, id: best.id }
        break
      }
      this.states.set(epoch + 1n, best.processed.group)
      this.origins.set(epoch + 1n, best.id)
      const bytes = this.known.get(epoch)?.get(best.id)
      const after = new Set(best.processed.group.members().map(m => m.device))
      this.keepCommit(epoch, bytes != null ? { bytes, removed: state.members().map(m => m.device).filter(d => !after.has(d)) } : null)
      this.headEpoch = epoch + 1n
    }
    this.trim()
    if (this.removed) return out
    if (replacedFrom != null) {
      // What others sent in replaced epochs is not part of the chosen history: their senders
      // send it again on the chosen chain (same id), unless that chain removed them.
      for (const [id, message] of this.messages) if (message.epoch >= replacedFrom && !this.mine.has(id)) this.messages.delete(id)
      // Our texts sent in replaced epochs: nobody on the chosen chain can read them.
      for (const sent of this.mine.values()) {
        if (sent.epoch < replacedFrom) continue
        sent.epoch = this.headEpoch
        out.push(await this.encryptText(sent.signed))
      }
    }
    // Content that waited for this chain.
    for (const [hash, { epoch, bytes }] of this.parked) {
      if (await this.readContent(epoch, bytes, hash)) this.parked.delete(hash)
    }
    out.push(...await this.act())
    return out
  }

  private keepCommit (epoch: bigint, kept: KeptCommit | null): void {
    if (kept == null) this.chainCommits.delete(epoch)
    else this.chainCommits.set(epoch, kept)
    this.commitChanges.set(epoch, kept)
  }

  /** Note a commit that builds on `epoch`. */
  private know (epoch: bigint, id: string, commit: Uint8Array): void {
    let forEpoch = this.known.get(epoch)
    if (forEpoch == null) this.known.set(epoch, forEpoch = new Map())
    forEpoch.set(id, commit)
  }

  /** The valid commits known for `epoch`, applied to our state there (cached). */
  private async candidates (epoch: bigint, state: KithGroup): Promise<Array<{ id: string, rank: number, processed: Processed }>> {
    const valid = []
    const origin = this.origins.get(epoch) as string
    for (const [id, bytes] of this.known.get(epoch) ?? []) {
      const key = `${origin}/${id}`
      let outcome = this.outcomes.get(key)
      if (outcome === undefined) {
        outcome = await evaluate(state, bytes) ?? null
        this.outcomes.set(key, outcome)
      }
      if (outcome != null) valid.push({ id, ...outcome })
    }
    return valid
  }

  /** Keep REORG_WINDOW states, forget what is older (commits known, content parked); keep KEPT_COMMITS of the chain's commits. */
  private trim (): void {
    for (const epoch of [...this.states.keys()]) {
      if (epoch <= this.headEpoch - BigInt(REORG_WINDOW)) {
        this.states.delete(epoch)
        this.origins.delete(epoch)
        this.known.delete(epoch)
      }
    }
    const oldest = this.headEpoch - BigInt(this.states.size - 1)
    for (const [hash, { epoch }] of this.parked) if (epoch < oldest) this.parked.delete(hash)
    // Content of epochs older than the states kept can't be read again anyway: no need to remember it.
    for (const [hash, epoch] of this.read) if (epoch < oldest) this.read.delete(hash)
    for (const epoch of this.chainCommits.keys()) if (epoch < this.headEpoch - BigInt(KEPT_COMMITS)) this.keepCommit(epoch, null)
  }

  /**
   * Do what is ours to do at the head: ask to leave (once per state; the last admin first
   * hands over to another member); as an admin, commit our intents and the removal of members
   * who asked to leave, when no commit for this epoch is known yet. Every admin commits those
   * removals: the fork-choice keeps the lowest-ranked admin's, so whichever admin is online
   * does it (the failover), and everyone agrees which.
   */
  private async act (): Promise<Uint8Array[]> {
    if (this.removed) return []
    const head = this.head
    const own = head.ownLeaf
    const members = head.members()
    this.intents = this.intents.filter(i => !done(head, i))
    for (const device of this.leaving) if (!members.some(m => m.device === device)) this.leaving.delete(device)
    const rank = committerRank(head, own)
    const committing = (this.known.get(this.headEpoch)?.size ?? 0) > 0
    if (this.intents.some(i => i.kind === 'leave')) {
      const lastAdmin = rank != null && !members.some(m => m.leaf !== own && head.isAdmin(m.leaf))
      if (lastAdmin) {
        // No one would be left to commit: make another member an admin first.
        const heir = members.find(m => m.leaf !== own)
        if (heir == null || committing) return []
        return await this.commitProposals(rank, [head.promoteProposal(heir.identity)])
      }
      const here = `${this.headEpoch}/${this.origins.get(this.headEpoch) as string}`
      if (this.leaveAskedIn === here) return []
      this.leaveAskedIn = here
      return [await this.encrypt(LEAVE_REQUEST, randomBytes(ID_BYTES))]
    }
    if (rank == null || committing) return []
    const requests = members.filter(m => m.leaf !== own && this.leaving.has(m.device)).map(m => ({ proposalType: 'remove' as const, remove: { removed: m.leaf } }))
    let proposals = dedupeRemovals([...this.intents.flatMap(i => proposalsFor(head, i)), ...requests])
    if (proposals.length === 0) return []
    // A change of name or admins goes in a commit of its own (see KithGroup.commit), one at a
    // time; removals go first.
    const others = proposals.filter(p => p.proposalType !== 'group_context_extensions')
    proposals = others.length > 0 ? others : proposals.slice(0, 1)
    return await this.commitProposals(rank, proposals)
  }

  /** Commit at the head and settle on it. */
  private async commitProposals (rank: number, proposals: Proposal[]): Promise<Uint8Array[]> {
    const head = this.head
    // MLS committers never process their own commit: its outcome is the state it made.
    const { group, commit } = await head.commit(proposals)
    const id = commitId(commit)
    this.known.set(this.headEpoch, new Map([[id, commit]]))
    this.outcomes.set(`${this.origins.get(this.headEpoch) as string}/${id}`, { rank, processed: { kind: 'commit', group, committer: head.member(head.ownLeaf) as GroupMember } })
    return [commit, ...await this.settle()]
  }
}

function done (group: KithGroup, intent: Intent): boolean {
  if (intent.kind === 'rename') return group.meta().name === intent.name
  if (intent.kind === 'promote') return group.meta().admins.includes(intent.who) || !group.members().some(m => m.identity === intent.who)
  if (intent.kind === 'remove') return !group.members().some(m => m.device === intent.who || m.identity === intent.who)
  return false // done when the chain removes us, which stops the replica
}

function proposalsFor (group: KithGroup, intent: Intent): Proposal[] {
  if (intent.kind === 'remove') {
    // Never ourselves: a committer can't remove itself (we leave instead).
    return group.members().filter(m => m.leaf !== group.ownLeaf && (m.device === intent.who || m.identity === intent.who)).map(m => ({ proposalType: 'remove' as const, remove: { removed: m.leaf } }))
  }
  if (intent.kind === 'rename') return [group.renameProposal(intent.name)]
  if (intent.kind === 'promote') return [group.promoteProposal(intent.who)]
  return []
}

/** One removal per leaf: a commit may not remove a member twice. */
function dedupeRemovals (proposals: Proposal[]): Proposal[] {
  const removed = new Set<number>()
  return proposals.filter(p => {
    if (p.proposalType !== 'remove') return true
    if (removed.has(p.remove.removed)) return false
    removed.add(p.remove.removed)
    return true
  })
}

/** A commit applied to `state`, with its committer's rank; undefined when it does not apply there. */
async function evaluate (state: KithGroup, bytes: Uint8Array): Promise<{ rank: number, processed: Processed } | undefined> {
  try {
    const processed = await state.process(bytes)
    if (processed.kind !== 'commit' && processed.kind !== 'removed') return undefined
    const rank = committerRank(state, processed.committer.leaf)
    return rank != null ? { rank, processed } : undefined
  } catch (err) {
    if (err instanceof InvalidGroupMessageError) return undefined
    throw err
  }
}
