import { createHmac } from 'node:crypto'
import { PAD_TO, padded } from '@kith/core'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { TypedEventEmitter } from '@libp2p/interface'
import { InvalidGroupMessageError, MAX_MLS_MESSAGE_BYTES, peekMls } from './group.js'
import { GroupEnvelope } from './proto/group.js'
import type { GroupReplica, GroupMessage, Intent } from './replica.js'
import type { KithGroup } from './group.js'
import { catchUp } from './catch-up.js'
import type { CatchUpResult } from './catch-up.js'
import type { PeerId, Stream } from '@libp2p/interface'

/** Version of the GroupEnvelope format this build publishes and accepts. */
export const GROUP_ENVELOPE_VERSION = 1
/** Largest envelope accepted on a group topic, checked before decoding. */
export const MAX_GROUP_ENVELOPE_BYTES = MAX_MLS_MESSAGE_BYTES + PAD_TO + 16

/**
 * The gossipsub topic of a group: derived from a secret only members have, so an observer
 * can't tell which group a topic carries, or link it to the group's id.
 */
export function groupTopic (topicSecret: Uint8Array): string {
  return `/kith/group/1/${createHmac('sha256', topicSecret).update('kith/group-topic').digest('hex').slice(0, 32)}`
}

/** One MLS message as published: padded to a multiple of 256 bytes (`padding` is field 3, written last). */
export function encodeGroupEnvelope (mls: Uint8Array): Uint8Array {
  return padded(GroupEnvelope.encode({ version: GROUP_ENVELOPE_VERSION, mls: mls as Uint8Array<ArrayBuffer> }), 3)
}

/**
 * The MLS message inside a published envelope.
 *
 * @throws {InvalidGroupMessageError} when it is oversized, malformed or of another version
 */
export function decodeGroupEnvelope (data: Uint8Array): Uint8Array {
  if (data.length > MAX_GROUP_ENVELOPE_BYTES) throw new InvalidGroupMessageError('group envelope is too large')
  let envelope: GroupEnvelope
  try {
    envelope = GroupEnvelope.decode(data)
  } catch {
    throw new InvalidGroupMessageError('malformed group envelope')
  }
  if (envelope.version !== GROUP_ENVELOPE_VERSION) throw new InvalidGroupMessageError(`group envelope version ${envelope.version} is not supported`)
  return envelope.mls
}

/** What a {@link GroupChannel} needs of gossipsub. */
export interface GroupPubSub {
  subscribe(topic: string): void
  unsubscribe(topic: string): void
  publish(topic: string, data: Uint8Array): Promise<unknown>
  getSubscribers(topic: string): PeerId[]
  addEventListener(type: 'message', listener: (evt: CustomEvent<{ topic: string, data: Uint8Array }>) => void): void
  removeEventListener(type: 'message', listener: (evt: CustomEvent<{ topic: string, data: Uint8Array }>) => void): void
  addEventListener(type: 'subscription-change', listener: (evt: CustomEvent<{ peerId: PeerId, subscriptions: Array<{ topic: string, subscribe: boolean }> }>) => void): void
  removeEventListener(type: 'subscription-change', listener: (evt: CustomEvent<{ peerId: PeerId, subscriptions: Array<{ topic: string, subscribe: boolean }> }>) => void): void
  topicValidators: Map<string, (peer: PeerId, message: { topic: string, data: Uint8Array }) => TopicValidatorResult | Promise<TopicValidatorResult>>
}

export interface GroupChannelEvents {
  /** A text new to this member's history. */
  'message': CustomEvent<GroupMessage>
  /** Handling a message failed in a way no rule covers (counted in `failed`); the channel goes on. */
  'error': CustomEvent<unknown>
  /** A peer subscribed to the topic: a member back online, whom to ask for what we missed. */
  'peer': CustomEvent<PeerId>
  /** The replica moved to another epoch or branch, or was removed: its state is worth saving. */
  'change': CustomEvent
}

/** Counters of what the channel took in, refused, and failed to handle. */
export interface GroupChannelMetrics { received: number, invalid: number, published: number, failed: number }

/**
 * A group's replica on its gossipsub topic: publishes what the replica produces, feeds it what
 * arrives (one message at a time, in arrival order), and reports new texts. The topic
 * validator refuses oversized, malformed and other groups' messages before gossipsub forwards
 * them; messages that decode but don't apply are handled by the replica's rules.
 */
export class GroupChannel extends TypedEventEmitter<GroupChannelEvents> {
  readonly topic: string
  readonly metrics: GroupChannelMetrics = { received: 0, invalid: 0, published: 0, failed: 0 }
  private readonly groupId: string
  private readonly announced = new Set<string>()
  private queue: Promise<void> = Promise.resolve()

  constructor (private readonly pubsub: GroupPubSub, readonly replica: GroupReplica, topicSecret: Uint8Array) {
    super()
    this.topic = groupTopic(topicSecret)
    this.groupId = replica.head.id
    for (const m of replica.takeFresh()) this.announced.add(m.id)
  }

  private started = false

  start (): void {
    if (this.started) return
    this.started = true
    this.pubsub.topicValidators.set(this.topic, (_peer, message) => this.validate(message.data))
    this.pubsub.addEventListener('message', this.onMessage)
    this.pubsub.addEventListener('subscription-change', this.onSubscription)
    this.pubsub.subscribe(this.topic)
    // Peers already on the topic announced themselves before we listened.
    for (const peer of this.pubsub.getSubscribers(this.topic)) this.safeDispatchEvent('peer', { detail: peer })
  }

  stop (): void {
    if (!this.started) return
    this.started = false
    this.pubsub.unsubscribe(this.topic)
    this.pubsub.removeEventListener('message', this.onMessage)
    this.pubsub.removeEventListener('subscription-change', this.onSubscription)
    this.pubsub.topicValidators.delete(this.topic)
  }

  /** Send a text to the group (see {@link GroupReplica.send}). */
  async send (text: string, id?: string): Promise<void> {
    await this.serially(async () => await this.publish(await this.replica.send(text, id)))
  }

  /** Catch up from a member over `stream` (see {@link catchUp}), in turn with what arrives on the topic. */
  async catchUp (stream: Stream): Promise<CatchUpResult> {
    let result: CatchUpResult | undefined
    await this.serially(async () => { result = await catchUp(stream, this.replica) })
    return result as CatchUpResult
  }

  /** Ask for a change to the group (see {@link GroupReplica.intend}). */
  async intend (intent: Intent): Promise<void> {
    await this.serially(async () => await this.publish(await this.replica.intend(intent)))
  }

  /** Take a commit this member made (see {@link GroupReplica.adoptOwnCommit}) and publish it. */
  async adopt (group: KithGroup, commits: Uint8Array[]): Promise<void> {
    await this.serially(async () => {
      for (const commit of commits) await this.publish(await this.replica.adoptOwnCommit(group, commit))
    })
  }

  /** Resolves once everything received so far has been handled. */
  async idle (): Promise<void> { await this.queue }

  private validate (data: Uint8Array): TopicValidatorResult {
    try {
      if (peekMls(decodeGroupEnvelope(data)).groupId !== this.groupId) throw new InvalidGroupMessageError('for another group')
      return TopicValidatorResult.Accept
    } catch {
      this.metrics.invalid++
      return TopicValidatorResult.Reject
    }
  }

  private readonly onSubscription = (evt: CustomEvent<{ peerId: PeerId, subscriptions: Array<{ topic: string, subscribe: boolean }> }>): void => {
    if (evt.detail.subscriptions.some(s => s.topic === this.topic && s.subscribe)) this.safeDispatchEvent('peer', { detail: evt.detail.peerId })
  }

  private readonly onMessage = (evt: CustomEvent<{ topic: string, data: Uint8Array }>): void => {
    if (evt.detail.topic !== this.topic) return
    const { data } = evt.detail
    // After gossipsub has forwarded it: reading (decrypting) it can wait a turn of the event loop, forwarding can't.
    setImmediate(() => { this.take(data) })
  }

  private take (data: Uint8Array): void {
    this.serially(async () => {
      this.metrics.received++
      let outgoing: Uint8Array[]
      try {
        outgoing = await this.replica.receive(decodeGroupEnvelope(data))
      } catch (err) {
        if (!(err instanceof InvalidGroupMessageError)) throw err
        this.metrics.invalid++
        return
      }
      await this.publish(outgoing)
    }).catch(err => {
      // A failure here (a bug, or a publish that failed) must not take the node down: count it
      // and keep serving; what was lost comes back with history sync.
      this.metrics.failed++
      this.safeDispatchEvent('error', { detail: err })
    })
  }

  private async publish (messages: Uint8Array[]): Promise<void> {
    for (const mls of messages) {
      await this.pubsub.publish(this.topic, encodeGroupEnvelope(mls))
      this.metrics.published++
    }
    this.announce()
  }

  /** Emit texts that are new to the history (a re-sent copy keeps its id, so it is not new). */
  private announce (): void {
    for (const message of this.replica.takeFresh()) {
      if (this.announced.has(message.id)) continue
      this.announced.add(message.id)
      this.safeDispatchEvent('message', { detail: message })
    }
  }

  /** The replica handles one thing at a time, in order. */
  private async serially (fn: () => Promise<void>): Promise<void> {
    const run = this.queue.then(async () => {
      const before = this.replica.position
      try {
        await fn()
      } finally {
        this.announce()
        if (this.replica.position !== before) this.safeDispatchEvent('change')
      }
    })
    this.queue = run.catch(() => {})
    await run
  }
}
