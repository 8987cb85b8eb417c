/**
 * @packageDocumentation
 *
 * Mailboxes: friends hold sealed mail for friends who are offline. A node started with
 * `--relay` keeps a {@link MailboxStore} for the contacts that registered with it and serves it
 * on `/kith/mailbox/1.0.0` with a {@link MailboxServer}. Senders who can't reach a user
 * {@link deposit} its envelopes at the user's mailboxes; the user {@link drain}s them when it
 * comes online. A mailbox holds ciphertext only: it reads an envelope's recipient and id, never
 * its content, and keeps its database sealed, naming no peer in it. One depositor fills at
 * most a share of a recipient's mailbox, and all strangers together another. Every change is
 * one batch of its database, so a crash loses and duplicates nothing.
 *
 * @example
 * ```ts
 * import { MAILBOX_PROTOCOL, MailboxServer, MailboxStore, deposit, drain, register } from '@kith/mailbox'
 * import { Level } from 'level'
 *
 * // On the relay: hold mail for contacts.
 * // Sealed under the node's data key; a contact's devices count as that contact.
 * const store = new MailboxStore(new Level<string, any>('mailbox'), { ttlMs: 7 * 24 * 3600_000, sealing })
 * await store.open()
 * const server = new MailboxServer({ store, contactOf: async (peer) => (await kithStore.getContactByDevice(peer))?.peerId })
 * await libp2p.handle(MAILBOX_PROTOCOL, server.handler, { runOnLimitedConnection: true, maxInboundStreams: 8 })
 * server.start() // the time-to-live sweep
 *
 * // On a friend of the relay: register, later drain.
 * const open = async () => await libp2p.dialProtocol(relay, MAILBOX_PROTOCOL, { runOnLimitedConnection: true, signal: AbortSignal.timeout(10_000) })
 * await register(await open())
 * const { received } = await drain(await open(), async (batch) => {
 *   await takeIn(batch.map(e => e.envelope)) // durably, dropping ids already held
 *   return batch.map(e => e.id)              // these are deleted at the mailbox
 * })
 *
 * // On anyone who can't reach that friend: deposit.
 * const results = await deposit(await open(), envelopes) // 'stored' | 'duplicate' | 'quota' | 'quota-depositor' | …
 * ```
 */
export { MAILBOX_PROTOCOL, MAILBOX_DEFAULTS, MAILBOX_LIMITS } from './constants.js'
export { MailboxRefusedError } from './errors.js'
export type { MailboxRefusal } from './errors.js'
export { MailboxStore } from './mailbox-store.js'
export type { DepositResult, Deposited, Depositor, FetchOptions, MailboxDb, MailboxEntry, MailboxLimits, MailboxQuota, MailboxSealing, MailboxStats, MailboxStoreOptions, Usage } from './types.js'
export { MailboxServer } from './server.js'
export type { MailboxMetrics, MailboxServerInit } from './server.js'
export { register, unregister, deposit, drain } from './client.js'
export type { DrainHandler, DrainOptions } from './client.js'
