/**
 * Kith groups: MLS (RFC 9420, ts-mls) with Kith device certificates as credentials, and the
 * ordering rules that let members agree on one history without a server (docs/groups.md).
 *
 * @example
 * ```ts
 * const mine = await deviceKeyPackage(deviceKey, certificate)
 * let group = await KithGroup.create('Book club', mine.publicPackage, mine.privatePackage)
 * const { group: next, commit, welcome } = await group.add([friendsKeyPackage])
 * const replica = new GroupReplica(next)
 * const outgoing = await replica.send('hello')   // MLS messages to publish to the group
 * ```
 */
export { KithGroup, GroupPermissionError, InvalidGroupMessageError, MAX_MLS_MESSAGE_BYTES, decodeMls, peekMls, encodeKeyPackage, decodeKeyPackage } from './group.js'
export type { GroupMember, Processed } from './group.js'
export { GroupReplica, REORG_WINDOW, KEPT_COMMITS, TOPIC_LABEL } from './replica.js'
export type { GroupMessage, Intent, PendingIntent, KeptCommit, ReplicaOptions } from './replica.js'
export { checkGroupName, MAX_NAME_BYTES, MAX_ADMINS } from './group-meta.js'
export type { GroupMeta } from './group-meta.js'
export { commitId, committerRank, choose, revokes } from './fork-choice.js'
export type { Branch } from './fork-choice.js'
export { encodeCutoffs, decodeCutoffs, withinCutoff } from './cutoff.js'
export { signText, verifyText, encodeTextBody, decodeTextBody } from './text.js'
export type { SignedText, UnsignedText } from './text.js'
export type { Cutoffs } from './cutoff.js'
export { CIPHERSUITE, KEY_RETENTION_EPOCHS, deviceKeyPackage, deviceCredential, credentialCertificate, kithAuthenticationService } from './mls.js'
export { GroupChannel, groupTopic, encodeGroupEnvelope, decodeGroupEnvelope, GROUP_ENVELOPE_VERSION, MAX_GROUP_ENVELOPE_BYTES } from './channel.js'
export type { GroupPubSub, GroupChannelEvents, GroupChannelMetrics, GroupChannelInit } from './channel.js'
export { SYNC_PROTOCOL, catchUp, serveCatchUp, CatchUpError } from './catch-up.js'
export type { CatchUpResult, CatchUpOptions } from './catch-up.js'
export { GroupService, UnknownGroupError, INVITE_TOPIC } from './service.js'
export { KeyPackages, NoKeyPackageError, KEY_PACKAGE_PROTOCOL, KEY_PACKAGE_TOPIC, MAX_HELD_KEY_PACKAGES, MAX_SERVED_PER_CONTACT } from './key-packages.js'
export type { KeyPackageMetrics } from './key-packages.js'
export type { GroupServiceInit, GroupServiceEvents, GroupView, GroupState } from './service.js'
