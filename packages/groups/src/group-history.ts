import { decodeCutoffs, withinCutoff } from './cutoff.js'
import type { Cutoffs } from './cutoff.js'
import { decodeMls } from './group.js'
import type { SignedText } from './text.js'

/**
 * A group message as members read it. `id` is chosen by the sender: a re-send after a lost
 * commit race keeps it, so copies collapse. `signature` (over the group and `epoch` too) lets
 * members who get it in catch-up check the sender wrote it there (see text.ts).
 */
export interface GroupMessage extends SignedText {
  /** The sender's device (peer id). */
  sender: string
  /** The epoch it was sent and read in. */
  epoch: bigint
  /** Its place in the sender's MLS ratchet for that epoch, when known (what a removal's cut-off compares). */
  generation?: number
}

/** A commit of the chosen chain, kept for members that fell behind, with the devices it removed. */
export interface KeptCommit { bytes: Uint8Array, removed: string[] }

/** What the history needs to know of the chain it belongs to. */
export interface HistoryChain {
  /** The oldest epoch whose state is kept: copies from before it are final. */
  readonly oldest: bigint
  /** Whether the state at `epoch` is the one `origin` made (the copy read with it is on the chain). */
  isOnChain: (epoch: bigint, origin: string) => boolean
  /** The chain's kept commits. */
  commits: () => Iterable<[bigint, KeptCommit]>
}

/**
 * A group's history as one member holds it: the texts, less what removed members sent past the
 * cut-off of the commit that removed them (see cutoff.ts). A sender sends a text again when the
 * epoch it went out in is replaced, so one text can be read in several epochs, on several
 * branches: the copies read are kept while their epochs can still change, and the chain
 * decides which one counts.
 */
export class GroupHistory {
  private readonly messages = new Map<string, GroupMessage>()
  /** Copies of others' texts read from the group's content, by id, with the commit that made the state each was read with. */
  private readonly copies = new Map<string, Array<{ message: GroupMessage, origin: string }>>()
  /** Ids of texts added and not yet taken (see {@link takeFresh}). */
  private readonly fresh = new Set<string>()
  /** The highest generation of content read from each device, by epoch: a removal's cut-offs. */
  private readonly highest = new Map<bigint, Map<string, number>>()
  /** The removals along the chain, by device, oldest first, with their cut-offs (worked out when needed). */
  private removalsByDevice: Map<string, Array<{ epoch: bigint, cutoffs: Cutoffs }>> | undefined

  constructor (private readonly chain: HistoryChain) {}

  /** The texts in the history. */
  all (): GroupMessage[] { return [...this.messages.values()].filter(m => this.visible(m)) }

  /** A text of the history by id. */
  get (id: string): GroupMessage | undefined {
    const m = this.messages.get(id)
    return m != null && this.visible(m) ? m : undefined
  }

  /** Whether a text with this id is held (in the history or hidden by a cut-off). */
  has (id: string): boolean { return this.messages.has(id) }

  /** Add a text (ours, or handed over in catch-up): it replaces one with the same id. */
  add (m: GroupMessage): void {
    if (!this.messages.has(m.id)) this.fresh.add(m.id)
    this.messages.set(m.id, m)
  }

  /** Texts handed over (catch-up, storage) that are new; returns those in the history. */
  merge (messages: GroupMessage[]): GroupMessage[] {
    const added = messages.filter(m => !this.messages.has(m.id))
    for (const m of added) {
      this.add(m)
      // A removal's cut-offs say what we have read of the sender, however it came.
      if (m.generation != null) this.noteGeneration(m.epoch, m.sender, m.generation)
    }
    return added.filter(m => this.visible(m))
  }

  /** A copy of someone's text read from the group's content with the state `origin` made. */
  read (message: GroupMessage, origin: string): void {
    const copies = this.copies.get(message.id) ?? []
    copies.push({ message, origin })
    this.copies.set(message.id, copies)
    this.resolve(message.id)
  }

  noteGeneration (epoch: bigint, device: string, generation: number): void {
    let forEpoch = this.highest.get(epoch)
    if (forEpoch == null) this.highest.set(epoch, forEpoch = new Map())
    if ((forEpoch.get(device) ?? -1) < generation) forEpoch.set(device, generation)
  }

  /** The highest generation read from `device` in `epoch` (for a removal's cut-offs). */
  highestRead (epoch: bigint, device: string): number | undefined { return this.highest.get(epoch)?.get(device) }

  /** The texts added since the last call that are in the history now, oldest first. */
  takeFresh (): GroupMessage[] {
    const taken: GroupMessage[] = []
    for (const id of this.fresh) {
      const m = this.messages.get(id)
      // One hidden by a cut-off waits: a better chain may bring it back.
      if (m != null && !this.visible(m)) continue
      this.fresh.delete(id)
      if (m != null) taken.push(m)
    }
    return taken
  }

  /** The chain's commits changed: removals (and their cut-offs) are worked out again. */
  chainChanged (): void { this.removalsByDevice = undefined }

  /**
   * Epochs from `from` on were replaced: what others sent there is not in the history unless a
   * copy of it was read on the chain now (their senders send it again there, unless that chain
   * removed them). `keep`: texts that stay whatever (ours).
   */
  replaced (from: bigint, keep: (id: string) => boolean): void {
    for (const [id, m] of this.messages) if (m.epoch >= from && !keep(id) && !this.copies.has(id)) this.messages.delete(id)
    for (const id of this.copies.keys()) this.resolve(id)
  }

  /** After the chain moved on: a removal's cut-off can make another copy of a text the one that counts. */
  review (): void {
    for (const [id, copies] of this.copies) if (copies.length > 1) this.resolve(id)
  }

  /** Forget what no commit can change any more: copies and generations of epochs before `oldest`. */
  trim (oldest: bigint): void {
    for (const epoch of this.highest.keys()) if (epoch < oldest) this.highest.delete(epoch)
    for (const [id, copies] of this.copies) {
      const kept = copies.filter(c => c.message.epoch >= oldest)
      if (kept.length === 0) this.copies.delete(id)
      else if (kept.length < copies.length) this.copies.set(id, kept)
    }
    for (const id of this.fresh) if ((this.messages.get(id)?.epoch ?? oldest) < oldest) this.fresh.delete(id)
  }

  /**
   * Which copy of a text the history holds: of those read with a state of the chosen chain,
   * the first within any removal cut-off, else the first; none when no copy is on the chain.
   */
  private resolve (id: string): void {
    const copies = this.copies.get(id)
    if (copies == null) return
    const oldest = this.chain.oldest
    const onChain = copies.filter(c => c.message.epoch < oldest || this.chain.isOnChain(c.message.epoch, c.origin)).sort((a, b) => a.message.epoch < b.message.epoch ? -1 : a.message.epoch > b.message.epoch ? 1 : 0)
    const best = onChain.find(c => this.visible(c.message)) ?? onChain[0]
    if (best != null) this.add(best.message)
    else if (copies.some(c => c.message === this.messages.get(id))) this.messages.delete(id)
  }

  /** Whether a text is in the history: not from a device the chain removed, past the cut-off of the commit that removed it. */
  private visible (m: GroupMessage): boolean {
    const removal = this.removals().get(m.sender)?.find(r => r.epoch >= m.epoch)
    return removal == null || withinCutoff(removal.cutoffs, m.sender, m.epoch, m.generation)
  }

  private removals (): Map<string, Array<{ epoch: bigint, cutoffs: Cutoffs }>> {
    if (this.removalsByDevice != null) return this.removalsByDevice
    const removals = new Map<string, Array<{ epoch: bigint, cutoffs: Cutoffs }>>()
    for (const [epoch, kept] of [...this.chain.commits()].sort(([a], [b]) => a < b ? -1 : 1)) {
      if (kept.removed.length === 0) continue
      const cutoffs = cutoffsOf(kept.bytes)
      for (const device of kept.removed) removals.set(device, [...removals.get(device) ?? [], { epoch, cutoffs }])
    }
    return (this.removalsByDevice = removals)
  }
}

/** The cut-offs of a kept removal commit (checked when it was applied; none, so nothing past the removal, if damaged since). */
function cutoffsOf (commit: Uint8Array): Cutoffs {
  try {
    const message = decodeMls(commit)
    return decodeCutoffs(message.wireformat === 'mls_private_message' ? message.privateMessage.authenticatedData : new Uint8Array(0))
  } catch {
    return decodeCutoffs(new Uint8Array(0))
  }
}
