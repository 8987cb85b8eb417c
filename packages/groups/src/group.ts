import { randomBytes } from 'node:crypto'
import { KithError } from '@kith/core'
import {
  createApplicationMessage, createCommit, createGroup, decodeGroupState, decodeMlsMessage, emptyPskIndex,
  encodeGroupState, encodeMlsMessage, joinGroup, mlsExporter, processMessage
} from 'ts-mls'
import { unprotectPrivateMessage } from 'ts-mls/messageProtection.js'
import { decryptSenderData } from 'ts-mls/privateMessage.js'
import { checkGroupName, decodeGroupMeta, encodeGroupMeta } from './group-meta.js'
import { cipherSuite, credentialCertificate, kithClientConfig } from './mls.js'
import type { GroupMeta } from './group-meta.js'
import type { ClientState, EpochReceiverData, IncomingMessageAction, KeyPackage, MLSMessage, PrivateKeyPackage, PrivateMessage, Proposal, ProposalWithSender, RatchetTree } from 'ts-mls'

/** The caller may not do this in this group (not an admin, not a member, …). */
export class GroupPermissionError extends KithError { static override name = 'GroupPermissionError' }
/** An MLS message was malformed, not for this group or epoch, or refused by the group's rules. */
export class InvalidGroupMessageError extends KithError { static override name = 'InvalidGroupMessageError' }

/** Largest MLS message accepted, checked before decoding. */
export const MAX_MLS_MESSAGE_BYTES = 1024 * 1024

/** One member of a group: a device, and the user (identity) it belongs to. */
export interface GroupMember {
  leaf: number
  /** The device's peer id. */
  device: string
  /** The user's identity fingerprint. */
  identity: string
}

/** What processing an incoming MLS message did. */
export type Processed =
  /** `generation`: the content's place in its sender's ratchet for the epoch (what a removal's cut-off compares). */
  | { kind: 'application', group: KithGroup, sender: GroupMember, plaintext: Uint8Array, generation: number }
  /** `authenticatedData`: what the committer bound to the commit (a removal's cut-offs). */
  | { kind: 'commit', group: KithGroup, committer: GroupMember, authenticatedData: Uint8Array }
  /** A commit that removes this device: `group` is the last state it had (it can no longer send or read). */
  | { kind: 'removed', group: KithGroup, committer: GroupMember, authenticatedData: Uint8Array }
  | { kind: 'proposal', group: KithGroup, proposer: GroupMember }

/**
 * One device's view of an MLS group at one epoch. Immutable: every operation returns the
 * group's next state (with the message to send), so a caller can persist it in the same batch
 * as what it belongs to, and go back to an earlier epoch when a competing commit wins (see
 * docs/groups.md).
 */
/**
 * What a state's tree and context say, worked out once: a text moves the state on but shares
 * its tree and context (ts-mls states are immutable), and every member check needs them.
 */
const membersByTree = new WeakMap<RatchetTree, GroupMember[]>()
const metaByExtensions = new WeakMap<object, GroupMeta>()

export class KithGroup {
  private constructor (readonly state: ClientState) {}

  /** Wrap a state decoded from storage. */
  static fromState (state: ClientState): KithGroup { return new KithGroup(state) }

  /** The state as bytes, to store (it holds secrets: store it sealed). */
  toBytes (): Uint8Array { return encodeGroupState(this.state) }

  /**
   * A group from {@link toBytes}.
   *
   * @throws {InvalidGroupMessageError} when the bytes are not a whole group state
   */
  static fromBytes (bytes: Uint8Array): KithGroup {
    const decoded = decodeGroupState(bytes, 0)
    if (decoded == null || decoded[1] !== bytes.length) throw new InvalidGroupMessageError('stored group state is damaged')
    return new KithGroup({ ...decoded[0], clientConfig: kithClientConfig() })
  }

  /** A new group with this device as its only member and its user as the only admin. */
  static async create (name: string, keyPackage: KeyPackage, privatePackage: PrivateKeyPackage): Promise<KithGroup> {
    const certificate = credentialCertificate(keyPackage.leafNode.credential, keyPackage.leafNode.signaturePublicKey)
    const meta = encodeGroupMeta({ name: checkGroupName(name), admins: [certificate.identityFingerprint] })
    const state = await createGroup(randomBytes(16), keyPackage, privatePackage, [meta], await cipherSuite(), kithClientConfig())
    return new KithGroup(state)
  }

  /** Join from a Welcome (the ratchet tree travels in it). */
  static async join (welcome: Uint8Array, keyPackage: KeyPackage, privatePackage: PrivateKeyPackage): Promise<KithGroup> {
    const message = decodeMls(welcome)
    if (message.wireformat !== 'mls_welcome') throw new InvalidGroupMessageError('not a Welcome')
    try {
      const state = await joinGroup(message.welcome, keyPackage, privatePackage, emptyPskIndex, await cipherSuite(), undefined, undefined, kithClientConfig())
      const group = new KithGroup(state)
      group.meta() // refuse a group without valid Kith metadata
      return group
    } catch (err: any) {
      if (err instanceof KithError) throw err
      throw new InvalidGroupMessageError(`cannot join: ${err?.message ?? err}`)
    }
  }

  get id (): string { return Buffer.from(this.state.groupContext.groupId).toString('hex') }
  get epoch (): bigint { return this.state.groupContext.epoch }
  meta (): GroupMeta {
    const extensions = this.state.groupContext.extensions
    let meta = metaByExtensions.get(extensions)
    if (meta == null) metaByExtensions.set(extensions, meta = Object.freeze(decodeGroupMeta(extensions)))
    return meta
  }
  get ownLeaf (): number { return this.state.privatePath.leafIndex }

  /** Whether a commit removed this device from the group. */
  get removed (): boolean { return this.state.groupActiveState.kind === 'removedFromGroup' }

  /** Current members, in leaf order. */
  members (): GroupMember[] {
    const tree = this.state.ratchetTree
    let members = membersByTree.get(tree)
    if (members == null) membersByTree.set(tree, members = Object.freeze(membersOf(tree)) as GroupMember[])
    return members
  }

  member (leaf: number): GroupMember | undefined { return this.members().find(m => m.leaf === leaf) }
  isAdmin (leaf: number): boolean {
    const member = this.member(leaf)
    return member != null && this.meta().admins.includes(member.identity)
  }

  /** Add devices from their key packages. Admins only. Returns the commit for the group and the Welcome for the new members. */
  async add (keyPackages: KeyPackage[]): Promise<{ group: KithGroup, commit: Uint8Array, welcome: Uint8Array }> {
    this.requireAdmin('add members')
    const { group, commit, welcome } = await this.commit(keyPackages.map(keyPackage => ({ proposalType: 'add', add: { keyPackage } })))
    if (welcome == null) throw new Error('an add commit always has a Welcome')
    return { group, commit, welcome }
  }

  /** Remove every device of these users (identity fingerprints) or these devices (peer ids). Admins only. */
  async remove (who: string[]): Promise<{ group: KithGroup, commit: Uint8Array }> {
    this.requireAdmin('remove members')
    const leaves = this.members().filter(m => who.includes(m.identity) || who.includes(m.device)).map(m => m.leaf)
    if (leaves.length === 0) throw new GroupPermissionError('no such member')
    if (leaves.includes(this.ownLeaf)) throw new GroupPermissionError('to remove yourself, leave the group')
    return await this.commit(leaves.map(removed => ({ proposalType: 'remove', remove: { removed } })))
  }

  /** Change the group's name. Admins only. */
  async rename (name: string): Promise<{ group: KithGroup, commit: Uint8Array }> {
    this.requireAdmin('rename the group')
    return await this.commitMeta({ ...this.meta(), name: checkGroupName(name) })
  }

  /** Make a member's user an admin. Admins only. */
  async promote (identity: string): Promise<{ group: KithGroup, commit: Uint8Array }> {
    this.requireAdmin('promote members')
    if (!this.members().some(m => m.identity === identity)) throw new GroupPermissionError('no such member')
    const meta = this.meta()
    if (meta.admins.includes(identity)) return await this.commit([])
    return await this.commitMeta({ ...meta, admins: [...meta.admins, identity] })
  }

  /**
   * Commit `proposals` plus every valid proposal received in this epoch (members leaving, …).
   * The commit carries no path secrets for removed members, so they learn nothing after it.
   * `authenticatedData` travels in the clear with it, authenticated (a removal's cut-offs).
   */
  async commit (proposals: Proposal[] = [], authenticatedData?: Uint8Array): Promise<{ group: KithGroup, commit: Uint8Array, welcome?: Uint8Array }> {
    // ts-mls 1.6.4: members cannot process a commit that changes the group context extensions
    // together with a removal (the path secrets are sealed and opened under different
    // provisional contexts: HPKE OpenError). Such changes go in commits of their own.
    if (proposals.length > 1 && proposals.some(p => p.proposalType === 'group_context_extensions')) {
      throw new GroupPermissionError('a change of name or admins must be committed on its own')
    }
    const result = await createCommit({ state: this.state, cipherSuite: await cipherSuite() }, { extraProposals: proposals, ratchetTreeExtension: true, ...(authenticatedData != null ? { authenticatedData } : {}) })
    const welcome = result.welcome != null ? encodeMlsMessage({ welcome: result.welcome, wireformat: 'mls_welcome', version: 'mls10' }) : undefined
    return { group: new KithGroup(result.newState), commit: encodeMlsMessage(result.commit), ...(welcome != null ? { welcome } : {}) }
  }

  /** Encrypt application content for the group (content is padded by the caller). */
  async encrypt (content: Uint8Array): Promise<{ group: KithGroup, message: Uint8Array }> {
    const { newState, privateMessage } = await createApplicationMessage(this.state, content, await cipherSuite())
    return { group: new KithGroup(newState), message: encodeMlsMessage({ privateMessage, wireformat: 'mls_private_message', version: 'mls10' }) }
  }

  /**
   * Process a message from the group: a commit (this epoch's), a proposal, or application
   * content (of this epoch or one of the few before it that MLS keeps keys for). Commits and
   * proposals that break the group's rules are refused (see {@link commitRefusal}).
   *
   * @throws {InvalidGroupMessageError}
   */
  async process (bytes: Uint8Array): Promise<Processed> {
    const message = decodeMls(bytes)
    if (message.wireformat === 'mls_private_message' && message.privateMessage.contentType === 'application') return await this.openApplication(message.privateMessage)
    if (message.wireformat !== 'mls_private_message' && message.wireformat !== 'mls_public_message') throw new InvalidGroupMessageError('not a group message')
    let refusal: string | undefined
    let senderLeaf: number | undefined
    let result
    try {
      result = await processMessage(message, this.state, emptyPskIndex, (incoming): IncomingMessageAction => {
        senderLeaf = incoming.kind === 'commit' ? incoming.senderLeafIndex : incoming.proposal.senderLeafIndex
        refusal = incoming.kind === 'commit' ? this.commitRefusal(incoming.senderLeafIndex, incoming.proposals) : this.proposalRefusal(incoming.proposal)
        return refusal == null ? 'accept' : 'reject'
      }, await cipherSuite())
    } catch (err: any) {
      throw new InvalidGroupMessageError(`cannot process: ${err?.message ?? err}`)
    }
    if (refusal != null) throw new InvalidGroupMessageError(refusal)
    const sender = this.member(senderLeaf ?? -1)
    if (sender == null) throw new InvalidGroupMessageError('handshake from no member')
    const group = new KithGroup(result.newState)
    // Authenticated with the rest of the message (processing refuses it when altered).
    const authenticatedData = message.wireformat === 'mls_private_message' ? message.privateMessage.authenticatedData : message.publicMessage.content.authenticatedData
    if (result.newState.groupActiveState.kind === 'removedFromGroup') return { kind: 'removed', group, committer: sender, authenticatedData }
    return group.epoch > this.epoch ? { kind: 'commit', group, committer: sender, authenticatedData } : { kind: 'proposal', group, proposer: sender }
  }

  /**
   * Decrypt application content and say who sent it. ts-mls 1.6 verifies the sender's
   * signature but does not return the sender, so this is its application branch with the
   * sender kept.
   */
  private async openApplication (pm: PrivateMessage): Promise<Processed> {
    const current = pm.epoch === this.epoch
    const data = current
      ? { senderDataSecret: this.state.keySchedule.senderDataSecret, secretTree: this.state.secretTree, ratchetTree: this.state.ratchetTree, groupContext: this.state.groupContext }
      : this.state.historicalReceiverData.get(pm.epoch)
    if (data == null) throw new InvalidGroupMessageError(pm.epoch > this.epoch ? 'from an epoch not reached yet' : 'from an epoch whose keys are gone')
    let result
    let generation
    try {
      result = await unprotectPrivateMessage(data.senderDataSecret, pm, data.secretTree, data.ratchetTree, data.groupContext, this.state.clientConfig.keyRetentionConfig, await cipherSuite())
      // Opened once more for the generation, which ts-mls keeps to itself (one small AEAD).
      generation = (await decryptSenderData(pm, data.senderDataSecret, await cipherSuite()))?.generation
    } catch (err: any) {
      throw new InvalidGroupMessageError(`cannot decrypt: ${err?.message ?? err}`)
    }
    if (generation == null) throw new InvalidGroupMessageError('cannot decrypt: no sender data')
    const { content } = result.content
    const from = content.sender
    if (content.contentType !== 'application' || from.senderType !== 'member') throw new InvalidGroupMessageError('not application content from a member')
    const sender = membersOf(data.ratchetTree).find(m => m.leaf === from.leafIndex)
    if (sender == null) throw new InvalidGroupMessageError('application message from no member')
    const state: ClientState = current
      ? { ...this.state, secretTree: result.tree }
      : { ...this.state, historicalReceiverData: new Map([...this.state.historicalReceiverData, [pm.epoch, { ...(data as EpochReceiverData), secretTree: result.tree }]]) }
    return { kind: 'application', group: new KithGroup(state), sender, plaintext: content.applicationData, generation }
  }

  /**
   * A secret of this epoch for `label` (RFC 9420, section 8.5): only members of this epoch can
   * work it out, so a member removed before it can't.
   */
  async exportSecret (label: string, length = 32): Promise<Uint8Array> {
    return await mlsExporter(this.state.keySchedule.exporterSecret, label, new Uint8Array(0), length, await cipherSuite())
  }

  /** Why a commit is refused: only admins commit; a removed admin can't commit its own removal. */
  private commitRefusal (committer: number | undefined, proposals: ProposalWithSender[]): string | undefined {
    if (committer == null || !this.isAdmin(committer)) return 'only admins commit'
    for (const p of proposals) {
      const refusal = this.proposalRefusal(p)
      if (refusal != null) return refusal
    }
    return undefined
  }

  /** Members may propose only their own removal (leaving) or a key update; admins anything. */
  private proposalRefusal ({ proposal, senderLeafIndex }: ProposalWithSender): string | undefined {
    if (senderLeafIndex != null && this.isAdmin(senderLeafIndex)) return undefined
    if (proposal.proposalType === 'update') return undefined
    if (proposal.proposalType === 'remove' && proposal.remove.removed === senderLeafIndex) return undefined
    return 'only admins add, remove or change the group'
  }

  private async commitMeta (meta: GroupMeta): Promise<{ group: KithGroup, commit: Uint8Array }> {
    return await this.commit([this.metaProposal(meta)])
  }

  /** The proposal that renames the group (for a commit that batches it with others). */
  renameProposal (name: string): Proposal { return this.metaProposal({ ...this.meta(), name: checkGroupName(name) }) }

  /** The proposal that makes a member's user an admin. */
  promoteProposal (identity: string): Proposal {
    const meta = this.meta()
    return this.metaProposal({ ...meta, admins: meta.admins.includes(identity) ? meta.admins : [...meta.admins, identity] })
  }

  private metaProposal (meta: GroupMeta): Proposal {
    const replacement = encodeGroupMeta(meta)
    const others = this.state.groupContext.extensions.filter(e => e.extensionType !== replacement.extensionType)
    return { proposalType: 'group_context_extensions', groupContextExtensions: { extensions: [...others, replacement] } }
  }

  private requireAdmin (action: string): void {
    if (!this.isAdmin(this.ownLeaf)) throw new GroupPermissionError(`only admins may ${action}`)
  }
}

/**
 * Decode one MLS message, refusing oversized input and trailing bytes.
 *
 * @throws {InvalidGroupMessageError}
 */
export function decodeMls (bytes: Uint8Array): MLSMessage {
  if (bytes.length === 0 || bytes.length > MAX_MLS_MESSAGE_BYTES) throw new InvalidGroupMessageError(`an MLS message is 1 to ${MAX_MLS_MESSAGE_BYTES} bytes`)
  let decoded
  try {
    decoded = decodeMlsMessage(bytes, 0)
  } catch {
    decoded = undefined
  }
  if (decoded == null || decoded[1] !== bytes.length) throw new InvalidGroupMessageError('malformed MLS message')
  return decoded[0]
}

/** A key package as sent to whoever will add this device (an MLS message). */
export function encodeKeyPackage (keyPackage: KeyPackage): Uint8Array {
  return encodeMlsMessage({ keyPackage, wireformat: 'mls_key_package', version: 'mls10' })
}

/**
 * A key package received from a device to add, checked for size and form (its credential is
 * checked when it is added).
 *
 * @throws {InvalidGroupMessageError}
 */
export function decodeKeyPackage (bytes: Uint8Array): KeyPackage {
  const message = decodeMls(bytes)
  if (message.wireformat !== 'mls_key_package') throw new InvalidGroupMessageError('not a key package')
  return message.keyPackage
}

/**
 * The device (peer id) a key package is for, from its credential, checked.
 *
 * @throws {InvalidGroupMessageError} when the credential is not a valid Kith device certificate for its key
 */
export function keyPackageDevice (keyPackage: KeyPackage): string {
  try {
    return credentialCertificate(keyPackage.leafNode.credential, keyPackage.leafNode.signaturePublicKey).device.toString()
  } catch (err: any) {
    throw new InvalidGroupMessageError(`the key package's credential is not valid: ${err?.message ?? err}`)
  }
}

/** What the outside of a group message tells: its group (hex), its epoch, and whether it is a commit, a proposal or content. */
export function peekMls (bytes: Uint8Array): { groupId: string, epoch: bigint, contentType: 'commit' | 'proposal' | 'application' } {
  const message = decodeMls(bytes)
  if (message.wireformat === 'mls_private_message') {
    const { groupId, epoch, contentType } = message.privateMessage
    return { groupId: Buffer.from(groupId).toString('hex'), epoch, contentType }
  }
  if (message.wireformat === 'mls_public_message') {
    const { groupId, epoch, contentType } = message.publicMessage.content
    return { groupId: Buffer.from(groupId).toString('hex'), epoch, contentType }
  }
  throw new InvalidGroupMessageError('not a group message')
}

/** The members a ratchet tree holds, with their certified devices and users. */
function membersOf (tree: RatchetTree): GroupMember[] {
  const members: GroupMember[] = []
  for (let node = 0; node < tree.length; node += 2) {
    const entry = tree[node]
    if (entry?.nodeType !== 'leaf') continue
    const certificate = credentialCertificate(entry.leaf.credential, entry.leaf.signaturePublicKey)
    members.push({ leaf: node / 2, device: certificate.device.toString(), identity: certificate.identityFingerprint })
  }
  return members
}
