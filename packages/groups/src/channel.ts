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
  /** A text new to this member's history (announced once stored, see {@link GroupChannelInit.save}). */
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

/** What a {@link GroupChannel} needs besides gossipsub and the replica. */
export interface GroupChannelInit {
  /**
   * Store the replica's state, with `texts` (new to the history), in one change. Awaited
   * before anything the replica made goes on the topic: a text encrypted with a ratchet
   * generation the store does not know of yet would make a restart encrypt under it again.
   * (Reading alone stores without holding up the next message.)
   */
  save?: (texts: GroupMessage[]) => Promise<void>
}

/**
 * A group's replica on its gossipsub topic: publishes what the replica produces, feeds it what
 * arrives (one message at a time, in arrival order), and reports new texts. The topic is named
 * from the replica's topic secret, which changes when a commit removes someone, so a removed
 * member can neither follow the group's topic nor flood it; a member moves to the new topic
 * when it applies that commit. The topic validator refuses oversized, malformed and other
 * groups' messages before gossipsub forwards them; messages that decode but don't apply are
 * handled by the replica's rules.
 */
export class GroupChannel extends TypedEventEmitter<GroupChannelEvents> {
  readonly metrics: GroupChannelMetrics = { received: 0, invalid: 0, published: 0, failed: 0 }
  private readonly groupId: string
  private readonly announced = new Set<string>()
  private queue: Promise<void> = Promise.resolve()
  private current: string
  private started = false

  /**
   * @param topicSecret - the topic secret of the state the replica starts from, when the
   * replica was made without one
   */
  constructor (private readonly pubsub: GroupPubSub, readonly replica: GroupReplica, topicSecret?: Uint8Array, private readonly init: GroupChannelInit = {}) {
    super()
    if (topicSecret != null) replica.useTopicSecret(topicSecret)
    if (replica.topicSecret == null) throw new TypeError('a group channel needs the topic secret')
    this.current = groupTopic(replica.topicSecret)
    this.groupId = replica.head.id
    for (const m of replica.takeFresh()) this.announced.add(m.id)
  }

  /** The gossipsub topic the group is on now. */
  get topic (): string { return this.current }

  /** Subscribe, and do what the replica has left to do (intents kept across a restart). */
  start (): void {
    if (this.started) return
    this.started = true
    this.pubsub.addEventListener('message', this.onMessage)
    this.pubsub.addEventListener('subscription-change', this.onSubscription)
    this.join(this.current)
    void this.serially(async () => await this.replica.resume()).catch(err => { this.fail(err) })
  }

  stop (): void {
    if (!this.started) return
    this.started = false
    this.leave(this.current)
    this.pubsub.removeEventListener('message', this.onMessage)
    this.pubsub.removeEventListener('subscription-change', this.onSubscription)
  }

  /** Send a text to the group (see {@link GroupReplica.send}). */
  async send (text: string, id?: string): Promise<void> {
    await this.serially(async () => await this.replica.send(text, id))
  }

  /** Catch up from a member over `stream` (see {@link catchUp}), in turn with what arrives on the topic. */
  async catchUp (stream: Stream): Promise<CatchUpResult> {
    let result: CatchUpResult | undefined
    let failure: unknown
    await this.serially(async () => {
      const outgoing: Uint8Array[] = []
      // What the commits taken in so far made goes out even when the exchange breaks off later.
      try {
        result = await catchUp(stream, this.replica, { outgoing })
      } catch (err) {
        failure = err
      }
      return outgoing
    })
    if (result == null) throw failure
    return result
  }

  /** Ask for a change to the group (see {@link GroupReplica.intend}). */
  async intend (intent: Intent): Promise<void> {
    await this.serially(async () => await this.replica.intend(intent))
  }

  /**
   * Make a commit of ours on the head state (adding members), in turn with what arrives, and
   * publish it (see {@link GroupReplica.adoptOwnCommit}). `make` may store what goes with it
   * (the Welcome queued for the new member) before it goes out.
   */
  async commitOwn (make: (head: KithGroup) => Promise<{ group: KithGroup, commit: Uint8Array }>): Promise<void> {
    await this.serially(async () => {
      const { group, commit } = await make(this.replica.head)
      return await this.replica.adoptOwnCommit(group, commit)
    })
  }

  /** Resolves once everything received so far has been handled. */
  async idle (): Promise<void> { await this.queue }

  /** Listen on `topic`; `announce`: how many of the peers already on it to report (they announced themselves before we listened). */
  private join (topic: string, announce = Infinity): void {
    this.pubsub.topicValidators.set(topic, (_peer, message) => this.validate(message.data))
    this.pubsub.subscribe(topic)
    const peers = this.pubsub.getSubscribers(topic)
    for (let i = 0; i < Math.min(announce, peers.length); i++) {
      const [peer] = peers.splice(Math.floor(Math.random() * peers.length), 1)
      if (peer != null) this.safeDispatchEvent('peer', { detail: peer })
    }
  }

  private leave (topic: string): void {
    this.pubsub.unsubscribe(topic)
    this.pubsub.topicValidators.delete(topic)
  }

  /** Move to the replica's topic when a commit (or a change of branch) changed it. */
  private follow (): void {
    const secret = this.replica.topicSecret
    const topic = secret != null ? groupTopic(secret) : this.current
    if (topic === this.current) return
    const before = this.current
    this.current = topic
    if (!this.started) return
    this.leave(before)
    // Those who moved before us each ask us for what we lack when they see us arrive; one of
    // them is enough for us to ask (each catch-up goes both ways).
    this.join(topic, 1)
  }

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
    if (evt.detail.subscriptions.some(s => s.topic === this.current && s.subscribe)) this.safeDispatchEvent('peer', { detail: evt.detail.peerId })
  }

  private readonly onMessage = (evt: CustomEvent<{ topic: string, data: Uint8Array }>): void => {
    if (evt.detail.topic !== this.current) return
    const { data } = evt.detail
    // After gossipsub has forwarded it: reading (decrypting) it can wait a turn of the event loop, forwarding can't.
    setImmediate(() => { this.take(data) })
  }

  private take (data: Uint8Array): void {
    this.serially(async () => {
      this.metrics.received++
      try {
        return await this.replica.receive(decodeGroupEnvelope(data))
      } catch (err) {
        if (!(err instanceof InvalidGroupMessageError)) throw err
        this.metrics.invalid++
        return []
      }
    }).catch(err => { this.fail(err) })
  }

  /** A failure here (a bug, or a publish or store that failed) must not take the node down: count it and keep serving; what was lost comes back with history sync. */
  private fail (err: unknown): void {
    this.metrics.failed++
    this.safeDispatchEvent('error', { detail: err })
  }

  /** Each MLS message on the topic of its epoch: a commit goes where the members it builds on listen. */
  private async publish (messages: Uint8Array[]): Promise<void> {
    for (const mls of messages) {
      const secret = this.replica.topicSecretAt(peekMls(mls).epoch)
      await this.pubsub.publish(secret != null ? groupTopic(secret) : this.current, encodeGroupEnvelope(mls))
      this.metrics.published++
    }
  }

  /**
   * The replica handles one thing at a time, in order. After each, what it changed is stored
   * (awaited when there is something to publish), the texts new to its history are
   * announced, what it made is published, and the channel follows the topic (after publishing,
   * so a commit that moves the group goes out on the topic its members listen on now).
   */
  private async serially (fn: () => Promise<Uint8Array[]>): Promise<void> {
    const run = this.queue.then(async () => {
      const before = this.replica.position
      let outgoing: Uint8Array[] = []
      try {
        try {
          outgoing = await fn()
        } finally {
          const texts = this.replica.takeFresh().filter(m => !this.announced.has(m.id))
          const saved = this.init.save?.(texts)
          if (outgoing.length > 0) await saved
          else saved?.catch(err => { this.fail(err) })
          for (const message of texts) {
            this.announced.add(message.id)
            this.safeDispatchEvent('message', { detail: message })
          }
          if (this.replica.position !== before) this.safeDispatchEvent('change')
        }
        await this.publish(outgoing)
      } finally {
        this.follow()
      }
    })
    this.queue = run.catch(() => {})
    await run
  }
}
