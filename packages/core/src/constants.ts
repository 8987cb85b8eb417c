/** Protocol ids. Every Kith protocol lives under /kith/ so it never mixes with public networks. */
export const DM_PROTOCOL = '/kith/dm/1.0.0'
/** kad-dht protocol: a private DHT, not the public IPFS one. */
export const KAD_PROTOCOL = '/kith/kad/1.0.0'

/** Version of the Envelope wire format this build writes and accepts. */
export const ENVELOPE_VERSION = 1
/** Envelope.encryption: the body is a SignedMessage in plaintext (benchmarks and tests only). */
export const ENCRYPTION_NONE = 0
/** Envelope.encryption: the body is sealed to the recipient device and end-to-end encrypted. */
export const ENCRYPTION_SEALED = 1
/** Envelope.encryption: as ENCRYPTION_SEALED, sealed with an established session's keys. */
export const ENCRYPTION_SESSION_SEALED = 2
/** Protocol id of prekey bundle requests. */
export const PREKEYS_PROTOCOL = '/kith/prekeys/1.0.0'
/** Protocol id of linking a new device to an account, served by the identity device. */
export const LINK_PROTOCOL = '/kith/link/1.0.0'

/** Limits, all enforced before anything is parsed or stored. */
export const LIMITS = {
  /** Largest message text, in UTF-8 bytes. */
  maxTextBytes: 16 * 1024,
  /** Largest frame on /kith/dm/1.0.0 (an Envelope or an Ack), checked before decoding. */
  maxFrameBytes: 256 * 1024,
  /** Largest control payload (a group Welcome carries the group's tree, about 370 bytes a member: about 500 members fit). */
  maxControlBytes: 192 * 1024,
  /** Longest control topic, in bytes. */
  maxControlTopicBytes: 64,
  /** Longest invite code, in characters. */
  maxInviteChars: 8 * 1024,
  /** Longest display name or contact alias, in UTF-8 bytes. */
  maxNameBytes: 64,
  /** Most addresses carried in an invite or an introduction. */
  maxAddrs: 16,
  /** Longest multiaddr, in bytes. */
  maxAddrBytes: 256,
  /** Largest device certificate, in bytes (a real one is about 150). */
  maxCertificateBytes: 1024,
  /** Largest prekey bundle, in bytes. */
  maxBundleBytes: 2048,
  /** Largest message batch that can be read in one page of history. */
  maxPageSize: 1000
} as const

/** Message ids are this many random bytes (shown as hex). */
export const MESSAGE_ID_BYTES = 16
/** Invite tokens are this many random bytes. */
export const INVITE_TOKEN_BYTES = 16
/** How long an invite code stays valid. */
export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000
/** Protocol id of file transfers: chunks of end-to-end encrypted files, by hash. */
export const FILES_PROTOCOL = '/kith/files/1.0.0'
