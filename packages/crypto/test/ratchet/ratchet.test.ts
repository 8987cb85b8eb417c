import { describe, expect, it } from 'vitest'
import { InvalidMessageError } from '@kith/core'
import {
  decodeHeader, DecryptionFailedError, DuplicateMessageError, encodeHeader, HEADER_LENGTH, MAX_SKIP, MAX_SKIPPED_KEYS,
  NoSendingChainError, ratchetDecrypt, ratchetEncrypt, TooManySkippedMessagesError
} from '../../src/ratchet/index.js'
import type { RatchetState } from '../../src/ratchet/index.js'
import { newSession, text, untext } from './session.js'

/** A message as it travels: the encoded header and the ciphertext. */
interface Wire { header: Uint8Array, ciphertext: Uint8Array }

function send (state: RatchetState, message: string, ad: Uint8Array): [RatchetState, Wire] {
  const out = ratchetEncrypt(state, text(message), ad)
  return [out.state, { header: encodeHeader(out.header), ciphertext: out.ciphertext }]
}

function receive (state: RatchetState, wire: Wire, ad: Uint8Array): [RatchetState, string] {
  const out = ratchetDecrypt(state, decodeHeader(wire.header), wire.ciphertext, ad)
  return [out.state, untext(out.plaintext)]
}

/** Expect `fn` to throw `error` and leave `state` exactly as it was. */
function expectRefused (state: RatchetState, fn: (s: RatchetState) => unknown, error: abstract new (...args: never[]) => Error): void {
  const before = structuredClone(state)
  expect(() => fn(state)).toThrow(error)
  expect(state).toEqual(before)
}

const flip = (bytes: Uint8Array, index: number): Uint8Array => {
  const copy = bytes.slice()
  copy[index] = (copy[index] ?? 0) ^ 0x01
  return copy
}

describe('ratchet header', () => {
  it('round-trips as 40 fixed bytes', () => {
    const header = { dh: new Uint8Array(32).fill(9), pn: 0xffffffff, n: 12345 }
    const bytes = encodeHeader(header)
    expect(bytes).toHaveLength(HEADER_LENGTH)
    expect(decodeHeader(bytes)).toEqual(header)
  })

  it('refuses bytes of any other length before reading them', () => {
    for (const length of [0, 39, 41, 1000]) expect(() => decodeHeader(new Uint8Array(length))).toThrow(InvalidMessageError)
  })

  it('refuses to encode counters that are not uint32 or a key that is not 32 bytes', () => {
    const dh = new Uint8Array(32)
    for (const bad of [{ dh, pn: -1, n: 0 }, { dh, pn: 0, n: 2 ** 32 }, { dh, pn: 0.5, n: 0 }, { dh: new Uint8Array(31), pn: 0, n: 0 }]) {
      expect(() => encodeHeader(bad)).toThrow(TypeError)
    }
  })
})

describe('Double Ratchet', () => {
  it('carries an alternating conversation, ratcheting at every turn', async () => {
    let { alice, bob, ad } = await newSession()
    const seenKeys = new Set<string>()
    for (let i = 0; i < 20; i++) {
      let wire: Wire, got: string
      ;[alice, wire] = send(alice, `alice ${i}`, ad)
      seenKeys.add(Buffer.from(decodeHeader(wire.header).dh).toString('hex'))
      ;[bob, got] = receive(bob, wire, ad)
      expect(got).toBe(`alice ${i}`)
      ;[bob, wire] = send(bob, `bob ${i}`, ad)
      seenKeys.add(Buffer.from(decodeHeader(wire.header).dh).toString('hex'))
      ;[alice, got] = receive(alice, wire, ad)
      expect(got).toBe(`bob ${i}`)
    }
    // A new ratchet key for every turn of each side.
    expect(seenKeys.size).toBe(40)
  })

  it('carries long one-direction bursts, in order and reversed', async () => {
    let { alice, bob, ad } = await newSession()
    let got: string
    for (let round = 0; round < 3; round++) {
      const fromAlice: Wire[] = []
      for (let i = 0; i < 200; i++) {
        let wire: Wire
        ;[alice, wire] = send(alice, `a${round}.${i}`, ad)
        fromAlice.push(wire)
      }
      for (const [i, wire] of fromAlice.entries()) {
        ;[bob, got] = receive(bob, wire, ad)
        expect(got).toBe(`a${round}.${i}`)
      }
      const fromBob: Wire[] = []
      for (let i = 0; i < 200; i++) {
        let wire: Wire
        ;[bob, wire] = send(bob, `b${round}.${i}`, ad)
        fromBob.push(wire)
      }
      for (const [i, wire] of [...fromBob.entries()].reverse()) {
        ;[alice, got] = receive(alice, wire, ad)
        expect(got).toBe(`b${round}.${i}`)
      }
      expect(Object.keys(alice.skipped)).toHaveLength(0)
    }
  })

  it('lets the responder send only once it has received', async () => {
    let { alice, bob, ad } = await newSession()
    expect(() => ratchetEncrypt(bob, text('too early'), ad)).toThrow(NoSendingChainError)
    let wire: Wire
    ;[alice, wire] = send(alice, 'hi', ad)
    ;[bob] = receive(bob, wire, ad)
    ;[, wire] = send(bob, 'hello', ad)
    expect(receive(alice, wire, ad)[1]).toBe('hello')
  })

  it('never modifies the state it is given, and its states survive structuredClone', async () => {
    let { alice, bob, ad } = await newSession()
    const aliceBefore = structuredClone(alice)
    const sent = ratchetEncrypt(alice, text('one'), ad)
    expect(alice).toEqual(aliceBefore)
    const bobBefore = structuredClone(bob)
    const got = ratchetDecrypt(bob, sent.header, sent.ciphertext, ad)
    expect(bob).toEqual(bobBefore)
    // A stored and reloaded state carries on.
    alice = structuredClone(sent.state)
    bob = structuredClone(got.state)
    let wire: Wire
    ;[bob, wire] = send(bob, 'two', ad)
    expect(receive(alice, wire, ad)[1]).toBe('two')
  })

  for (const where of ['first message of a chain', 'later message of a chain']) {
    it(`refuses a tampered header, ciphertext or associated data, leaving the state unchanged (${where})`, async () => {
      let { alice, bob, ad } = await newSession()
      let wire: Wire
      if (where === 'later message of a chain') {
        ;[alice, wire] = send(alice, 'warm-up', ad)
        ;[bob] = receive(bob, wire, ad)
      }
      ;[alice, wire] = send(alice, 'secret', ad)
      const header = decodeHeader(wire.header)
      const tampered = [
        { ...header, dh: flip(header.dh, 5) },
        { ...header, pn: header.pn + 1 },
        { ...header, n: header.n + 1 }
      ]
      for (const h of tampered) expectRefused(bob, s => ratchetDecrypt(s, h, wire.ciphertext, ad), DecryptionFailedError)
      for (const i of [0, wire.ciphertext.length - 1]) expectRefused(bob, s => ratchetDecrypt(s, header, flip(wire.ciphertext, i), ad), DecryptionFailedError)
      expectRefused(bob, s => ratchetDecrypt(s, header, wire.ciphertext.subarray(0, 10), ad), DecryptionFailedError)
      expectRefused(bob, s => ratchetDecrypt(s, header, wire.ciphertext, flip(ad, 0)), DecryptionFailedError)
      expectRefused(bob, s => ratchetDecrypt(s, { ...header, dh: new Uint8Array(32) }, wire.ciphertext, ad), DecryptionFailedError)
      // The genuine message still decrypts afterwards.
      expect(receive(bob, wire, ad)[1]).toBe('secret')
    })
  }

  it('refuses replays: in the current chain, from skipped keys, and from earlier chains', async () => {
    let { alice, bob, ad } = await newSession()
    const m: Wire[] = []
    for (let i = 0; i < 3; i++) {
      let wire: Wire
      ;[alice, wire] = send(alice, `m${i}`, ad)
      m.push(wire)
    }
    const [m0, m1, m2] = m as [Wire, Wire, Wire]
    let got: string
    ;[bob, got] = receive(bob, m2, ad) // m0 and m1 become skipped keys
    expect(got).toBe('m2')
    expectRefused(bob, s => receive(s, m2, ad), DuplicateMessageError)
    ;[bob, got] = receive(bob, m0, ad)
    expect(got).toBe('m0')
    expectRefused(bob, s => receive(s, m0, ad), DuplicateMessageError)
    // Both sides ratchet; the old chain's messages are still spent, its pending one still opens.
    let wire: Wire
    ;[bob, wire] = send(bob, 'reply', ad)
    ;[alice] = receive(alice, wire, ad)
    ;[alice, wire] = send(alice, 'next', ad)
    ;[bob] = receive(bob, wire, ad)
    expectRefused(bob, s => receive(s, m2, ad), DuplicateMessageError)
    expectRefused(bob, s => receive(s, m0, ad), DuplicateMessageError)
    ;[bob, got] = receive(bob, m1, ad)
    expect(got).toBe('m1')
    expectRefused(bob, s => receive(s, m1, ad), DuplicateMessageError)
    expect(Object.keys(bob.skipped)).toHaveLength(0)
  })

  it('forward secrecy: once both sides have ratcheted, an old state cannot decrypt new messages', async () => {
    let { alice, bob, ad } = await newSession()
    let wire: Wire
    ;[alice, wire] = send(alice, 'first', ad)
    ;[bob] = receive(bob, wire, ad)
    const oldBob = structuredClone(bob)
    for (let i = 0; i < 2; i++) {
      ;[bob, wire] = send(bob, 'ping', ad)
      ;[alice] = receive(alice, wire, ad)
      ;[alice, wire] = send(alice, 'pong', ad)
      ;[bob] = receive(bob, wire, ad)
    }
    ;[alice, wire] = send(alice, 'later', ad)
    expect(receive(bob, wire, ad)[1]).toBe('later')
    expect(() => receive(oldBob, wire, ad)).toThrow(DecryptionFailedError)
  })

  it('forward secrecy: the current state cannot decrypt messages it has already decrypted', async () => {
    let { alice, bob, ad } = await newSession()
    let wire: Wire
    ;[alice, wire] = send(alice, 'past', ad)
    const past = wire
    ;[bob] = receive(bob, wire, ad)
    ;[bob, wire] = send(bob, 'ping', ad)
    ;[alice] = receive(alice, wire, ad)
    ;[alice, wire] = send(alice, 'pong', ad)
    ;[bob] = receive(bob, wire, ad)
    // Even without the replay bookkeeping, the keys to read it are gone.
    expect(() => receive({ ...bob, previousRemoteKeys: [] }, past, ad)).toThrow(DecryptionFailedError)
  })

  it('post-compromise security: a thief with a copy of Bob\'s state is locked out once Bob has made a DH step and a round trip follows', async () => {
    let { alice, bob, ad } = await newSession()
    let wire: Wire
    let got: string
    ;[alice, wire] = send(alice, 'hello', ad)
    ;[bob] = receive(bob, wire, ad)
    const stolen = structuredClone(bob)
    ;[bob, wire] = send(bob, 'reply', ad)
    ;[alice] = receive(alice, wire, ad)
    // Alice's next chain uses Bob's ratchet key from the stolen state: the thief (who sees all
    // traffic) still reads it...
    ;[alice, wire] = send(alice, 'still readable', ad)
    ;[bob] = receive(bob, wire, ad) // Bob's DH step: a fresh ratchet key the thief never sees
    let follower: RatchetState
    ;[follower, got] = receive(stolen, wire, ad)
    expect(got).toBe('still readable')
    // ...then Bob sends under his fresh key, Alice answers under hers, and both copies are useless.
    ;[bob, wire] = send(bob, 'round trip', ad)
    ;[alice] = receive(alice, wire, ad)
    ;[alice, wire] = send(alice, 'healed', ad)
    expect(receive(bob, wire, ad)[1]).toBe('healed')
    expect(() => receive(stolen, wire, ad)).toThrow(DecryptionFailedError)
    expect(() => receive(follower, wire, ad)).toThrow(DecryptionFailedError)
  })

  it(`skips at most MAX_SKIP (${MAX_SKIP}) messages at once`, async () => {
    let { alice, bob, ad } = await newSession()
    const sent: Wire[] = []
    for (let i = 0; i <= MAX_SKIP + 1; i++) {
      let wire: Wire
      ;[alice, wire] = send(alice, `m${i}`, ad)
      sent.push(wire)
    }
    // Message MAX_SKIP + 1 would skip MAX_SKIP + 1 keys; message MAX_SKIP skips exactly MAX_SKIP.
    expectRefused(bob, s => receive(s, sent[MAX_SKIP + 1] as Wire, ad), TooManySkippedMessagesError)
    let got: string
    ;[bob, got] = receive(bob, sent[MAX_SKIP] as Wire, ad)
    expect(got).toBe(`m${MAX_SKIP}`)
    expect(Object.keys(bob.skipped)).toHaveLength(MAX_SKIP)
    ;[bob, got] = receive(bob, sent[MAX_SKIP + 1] as Wire, ad)
    expect(got).toBe(`m${MAX_SKIP + 1}`)
    ;[bob, got] = receive(bob, sent[0] as Wire, ad)
    expect(got).toBe('m0')
  })

  it(`keeps at most MAX_SKIPPED_KEYS (${MAX_SKIPPED_KEYS}) skipped keys, discarding the oldest`, async () => {
    let { alice, bob, ad } = await newSession()
    const chains: Wire[][] = []
    for (let round = 0; round < 3; round++) {
      const chain: Wire[] = []
      for (let i = 0; i < MAX_SKIP; i++) {
        let wire: Wire
        ;[alice, wire] = send(alice, `r${round}m${i}`, ad)
        chain.push(wire)
      }
      chains.push(chain)
      ;[bob] = receive(bob, chain[MAX_SKIP - 1] as Wire, ad) // every other message is late
      let wire: Wire
      ;[bob, wire] = send(bob, 'ack', ad)
      ;[alice] = receive(alice, wire, ad)
    }
    expect(Object.keys(bob.skipped)).toHaveLength(MAX_SKIPPED_KEYS)
    const discarded = 3 * (MAX_SKIP - 1) - MAX_SKIPPED_KEYS
    const first = chains[0] as Wire[]
    expectRefused(bob, s => receive(s, first[0] as Wire, ad), DuplicateMessageError)
    expectRefused(bob, s => receive(s, first[discarded - 1] as Wire, ad), DuplicateMessageError)
    expect(receive(bob, first[discarded] as Wire, ad)[1]).toBe(`r0m${discarded}`)
    expect(receive(bob, (chains[2] as Wire[])[0] as Wire, ad)[1]).toBe('r2m0')
  })
})
