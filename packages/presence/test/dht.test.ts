import { createHash } from 'node:crypto'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { NotFoundError } from '@libp2p/interface'
import { beforeAll, describe, expect, it } from 'vitest'
import { identityFingerprint } from '@kith/crypto'
import {
  InvalidPresenceError, MAX_PRESENCE_BYTES, PRESENCE_KEY_BYTES, PresencePublishError, lookupPresence, presenceDhtOptions, presenceKey,
  presenceSelector, presenceValidator, publishPresence, signPresence
} from '../src/index.js'
import { fieldsOf, makeUser, rawFieldsOf, signRaw } from './helpers.js'
import type { User } from './helpers.js'
import type { KadDHT, QueryEvent } from '@libp2p/kad-dht'

let alice: User
let bob: User
const now = Date.now()

beforeAll(async () => {
  [alice, bob] = await Promise.all([makeUser(), makeUser()])
})

const recordOf = (user: User, seq = now): Uint8Array => signPresence(user.identityKey, fieldsOf(user, { seq }))

/** What kad-dht does to pick a key's validator and selector (record/validators.js, record/selectors.js). */
const namespaceOf = (key: Uint8Array): string | undefined => new TextDecoder().decode(key).split('/')[1]

async function rejection (promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err: any) {
    if (err?.name !== 'InvalidPresenceError') throw err
    return err.reason
  }
  throw new Error('did not reject')
}

describe('presence keys', () => {
  it('are "/kith-presence/" and the SHA-256 of the identity key', () => {
    const key = presenceKey(alice.identityKey.publicKey)
    expect(key.byteLength).toBe(PRESENCE_KEY_BYTES)
    expect(PRESENCE_KEY_BYTES).toBe(47)
    expect(Buffer.from(key.subarray(0, 15)).toString()).toBe('/kith-presence/')
    const hash = createHash('sha256').update(publicKeyToProtobuf(alice.identityKey.publicKey)).digest()
    expect(Buffer.from(key.subarray(15)).equals(hash)).toBe(true)
    expect(hash.toString('hex')).toBe(identityFingerprint(alice.identityKey.publicKey))
  })

  it("read as the kith-presence namespace by kad-dht's parsing, whatever bytes the hash holds", async () => {
    // Hashes full of slashes and of bytes that are not UTF-8.
    const hashes = [Buffer.alloc(32, 0x2f), Buffer.alloc(32, 0xff), Buffer.from([0xc3, 0x2f, 0xe2, 0x82, 0x2f, ...Buffer.alloc(27, 0x80)])]
    for (const hash of hashes) expect(namespaceOf(Buffer.concat([Buffer.from('/kith-presence/'), hash]))).toBe('kith-presence')
    for (let i = 0; i < 50; i++) {
      const user = await makeUser(alice.deviceKey)
      expect(namespaceOf(presenceKey(user.identityKey.publicKey))).toBe('kith-presence')
    }
  })
})

describe('presenceValidator', () => {
  it("accepts a record under its identity's key", async () => {
    await expect(presenceValidator(presenceKey(alice.identityKey.publicKey), recordOf(alice))).resolves.toBeUndefined()
  })

  it("refuses another identity's record, and keys that are not presence keys", async () => {
    const key = presenceKey(alice.identityKey.publicKey)
    expect(await rejection(presenceValidator(key, recordOf(bob)))).toBe('wrong-key')
    expect(await rejection(presenceValidator(key.subarray(0, 46), recordOf(alice)))).toBe('wrong-key')
    expect(await rejection(presenceValidator(Buffer.concat([Buffer.from('/kith-presenca/'), key.subarray(15)]), recordOf(alice)))).toBe('wrong-key')
  })

  it('refuses forged, oversized and future records', async () => {
    const key = presenceKey(alice.identityKey.publicKey)
    expect(await rejection(presenceValidator(key, signRaw(bob.identityKey, rawFieldsOf(alice, now))))).toBe('forged')
    expect(await rejection(presenceValidator(key, new Uint8Array(MAX_PRESENCE_BYTES + 1)))).toBe('oversized')
    expect(await rejection(presenceValidator(key, signRaw(alice.identityKey, rawFieldsOf(alice, now + 11 * 60_000))))).toBe('future')
  })
})

describe('presenceSelector', () => {
  it('picks the valid record with the highest seq, the first among equals', () => {
    const key = presenceKey(alice.identityKey.publicKey)
    const [a1, a2, a3] = [recordOf(alice, now - 2000), recordOf(alice, now - 1000), recordOf(alice, now)]
    expect(presenceSelector(key, [a1!, a3!, a2!])).toBe(1)
    expect(presenceSelector(key, [a3!, a1!])).toBe(0)
    const again = signPresence(alice.identityKey, fieldsOf(alice, { seq: now, relay: false }))
    expect(presenceSelector(key, [a1!, again, a3!])).toBe(1)
  })

  it('never picks an invalid record, whatever its seq', () => {
    const key = presenceKey(alice.identityKey.publicKey)
    const valid = recordOf(alice, now - 5000)
    const forged = signRaw(bob.identityKey, rawFieldsOf(alice, now))
    const future = signRaw(alice.identityKey, rawFieldsOf(alice, now + 3_600_000))
    const bobs = recordOf(bob, now)
    const garbage = new Uint8Array([1, 2, 3])
    expect(presenceSelector(key, [forged, future, bobs, garbage, valid])).toBe(4)
    expect(presenceSelector(key, [forged, future, bobs, garbage])).toBe(-1)
  })
})

describe('presenceDhtOptions', () => {
  it("is shaped as kad-dht's init wants it, and counts refusals by reason", async () => {
    const refused: string[] = []
    const options = presenceDhtOptions({ onRefused: (reason) => refused.push(reason) })
    expect(Object.keys(options.validators)).toEqual(['kith-presence'])
    expect(Object.keys(options.selectors)).toEqual(['kith-presence'])
    const validate = options.validators['kith-presence']
    const key = presenceKey(alice.identityKey.publicKey)
    await validate(key, recordOf(alice))
    expect(await rejection(Promise.resolve(validate(key, recordOf(bob))))).toBe('wrong-key')
    expect(await rejection(Promise.resolve(validate(key, signRaw(bob.identityKey, rawFieldsOf(alice, now)))))).toBe('forged')
    expect(refused).toEqual(['wrong-key', 'forged'])
  })

  it('judges by the clock it is given', async () => {
    const record = recordOf(alice, now)
    const key = presenceKey(alice.identityKey.publicKey)
    const early = presenceDhtOptions({ now: () => now - 3_600_000 })
    expect(await rejection(Promise.resolve(early.validators['kith-presence'](key, record)))).toBe('future')
    expect(await early.selectors['kith-presence'](key, [record])).toBe(-1)
  })

  it('remembers nothing: refusing replays is the record store\'s job', async () => {
    const { validators } = presenceDhtOptions()
    const validate = validators['kith-presence']
    const [old, newer] = [recordOf(alice, now - 1000), recordOf(alice, now)]
    const key = presenceKey(alice.identityKey.publicKey)
    await validate(key, newer)
    await validate(key, old)
  })
})

/** A DHT that answers put and get with the events given. */
function fakeDht (events: Array<Partial<QueryEvent>>, error?: Error): Pick<KadDHT, 'put' | 'get'> & { keys: Uint8Array[] } {
  const keys: Uint8Array[] = []
  const run = async function * (key: Uint8Array): AsyncGenerator<QueryEvent> {
    keys.push(key)
    for (const event of events) yield event as QueryEvent
    if (error != null) throw error
  }
  return { keys, put: run, get: run }
}
const from = (user: User): any => user.device
const value = (v: Uint8Array): Partial<QueryEvent> => ({ name: 'VALUE', value: v, from: from(alice) } as any)
const response = (type: 'GET_VALUE' | 'PUT_VALUE', v: Uint8Array, peer = alice): Partial<QueryEvent> =>
  ({ name: 'PEER_RESPONSE', messageName: type, from: from(peer), record: { key: new Uint8Array(), value: v } } as any)

describe('lookupPresence', () => {
  it('asks for the presence key and keeps the valid record with the highest seq', async () => {
    const [a1, a2, a3] = [recordOf(alice, now - 2000), recordOf(alice, now - 1000), recordOf(alice, now)]
    const dht = fakeDht([response('GET_VALUE', a1!), response('GET_VALUE', a3!), response('GET_VALUE', a2!), value(a2!)])
    const found = await lookupPresence(dht, alice.identityKey.publicKey)
    expect(found?.seq).toBe(now)
    expect(Buffer.from(dht.keys[0]!).equals(presenceKey(alice.identityKey.publicKey))).toBe(true)
  })

  it('refuses invalid records and those below minSeq, once each, and reports why', async () => {
    const refused: string[] = []
    const forged = signRaw(bob.identityKey, rawFieldsOf(alice, now + 1000))
    const dht = fakeDht([response('GET_VALUE', forged), value(forged), response('GET_VALUE', recordOf(bob)), response('GET_VALUE', recordOf(alice, now - 1000))])
    const found = await lookupPresence(dht, alice.identityKey.publicKey, { minSeq: now - 500, onRefused: (reason) => refused.push(reason) })
    expect(found).toBeUndefined()
    expect(refused).toEqual(['forged', 'wrong-key', 'stale'])
  })

  it('takes a record at minSeq (nothing newer yet)', async () => {
    const found = await lookupPresence(fakeDht([value(recordOf(alice, now))]), alice.identityKey.publicKey, { minSeq: now })
    expect(found?.seq).toBe(now)
  })

  it('resolves undefined on NotFoundError, and keeps what it found when the query fails later', async () => {
    expect(await lookupPresence(fakeDht([], new NotFoundError('nothing')), alice.identityKey.publicKey)).toBeUndefined()
    const found = await lookupPresence(fakeDht([response('GET_VALUE', recordOf(alice))], new Error('Could not send correction')), alice.identityKey.publicKey)
    expect(found?.seq).toBe(now)
    await expect(lookupPresence(fakeDht([], new Error('boom')), alice.identityKey.publicKey)).rejects.toThrow('boom')
  })
})

describe('publishPresence', () => {
  it('succeeds when a peer echoes the record back, and says how many did', async () => {
    const record = recordOf(alice)
    const dht = fakeDht([response('PUT_VALUE', record, bob), response('PUT_VALUE', record, bob), response('PUT_VALUE', record, alice), response('GET_VALUE', record, alice)])
    expect(await publishPresence(dht, alice.identityKey, record)).toEqual({ stored: 2 })
    expect(Buffer.from(dht.keys[0]!).equals(presenceKey(alice.identityKey.publicKey))).toBe(true)
  })

  it('fails with PresencePublishError when no peer stored it', async () => {
    const record = recordOf(alice)
    const error = { name: 'QUERY_ERROR', error: new Error('refused'), from: from(bob) } as any
    await expect(publishPresence(fakeDht([error, response('PUT_VALUE', recordOf(alice, now - 1), bob)]), alice.identityKey, record))
      .rejects.toThrow(PresencePublishError)
    await expect(publishPresence(fakeDht([], new Error('no peers')), alice.identityKey, record)).rejects.toThrow(/no peer stored.*no peers/)
  })

  it('refuses to publish a record peers would refuse, before asking any', async () => {
    const dht = fakeDht([])
    expect(await rejection(publishPresence(dht, alice.identityKey, recordOf(bob)))).toBe('wrong-key')
    await expect(publishPresence(dht, alice.identityKey, recordOf(alice, now + 3_600_000))).rejects.toThrow(InvalidPresenceError)
    expect(dht.keys).toHaveLength(0)
  })
})
