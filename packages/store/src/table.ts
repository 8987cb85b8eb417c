import type { Db, Op } from './group-commit.js'
import type { AbstractSublevel } from 'abstract-level'

/**
 * Encrypts and decrypts stored values. `aad` is the record's full database key: a record copied
 * under another key fails to open. Supplied by the node (from @kith/crypto and the home folder's
 * data key), so the store itself stays free of key handling.
 */
export interface RecordCipher {
  seal(aad: string, plaintext: Uint8Array): Uint8Array
  open(aad: string, sealed: Uint8Array): Uint8Array
}

/** How a table's values become bytes. */
export interface Codec<V> {
  encode(value: V): Uint8Array
  decode(bytes: Uint8Array): V
}

export const jsonCodec: Codec<any> = {
  encode: (value) => new TextEncoder().encode(JSON.stringify(value)),
  decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes))
}

/** JSON that keeps Uint8Arrays (as `{"$u8": base64}`): for key material and session state. */
export const binaryJsonCodec: Codec<any> = {
  // `this[key]` is the value before toJSON, which turns a Buffer into { type, data }.
  encode: (value) => new TextEncoder().encode(JSON.stringify(value, function (this: any, key, v) {
    const original = this[key]
    return original instanceof Uint8Array ? { $u8: Buffer.from(original).toString('base64') } : v
  })),
  decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes), (_key, v) => v != null && typeof v === 'object' && typeof v.$u8 === 'string' && Object.keys(v).length === 1 ? new Uint8Array(Buffer.from(v.$u8, 'base64')) : v)
}

export const bytesCodec: Codec<Uint8Array> = {
  encode: (value) => value,
  decode: (bytes) => new Uint8Array(bytes)
}

/** Marks a {@link Table.putLatest} operation with its table and key: a later one for the same key, in the same batch, makes it unneeded. */
export const SUPERSEDED_BY_LATER = Symbol('kith.supersededByLater')

type Range = { gt?: string, lt?: string, reverse?: boolean, limit?: number }

/**
 * One sublevel whose values go through a codec and, when the store has a cipher, are sealed
 * with the record's key as associated data. Writes are returned as batch operations, so a
 * state change spanning several tables stays one atomic batch.
 */
export class Table<V> {
  private readonly sub: AbstractSublevel<Db, any, string, Uint8Array>

  constructor (db: Db, private readonly name: string, private readonly codec: Codec<V>, private readonly cipher?: RecordCipher) {
    this.sub = db.sublevel<string, Uint8Array>(name, { valueEncoding: 'view' })
  }

  put (key: string, value: V): Op {
    const bytes = this.codec.encode(value)
    return { type: 'put', sublevel: this.sub, key, value: this.cipher?.seal(this.aad(key), bytes) ?? bytes } as Op
  }

  /**
   * A put that is encoded (and sealed) only when its batch is written, and skipped there when a
   * later `putLatest` in the same batch writes the same key: for state that changes with every
   * message (a ratchet session), only the last value of each batch is worth writing.
   */
  putLatest (key: string, value: V): Op {
    let encoded: Uint8Array | undefined
    const encode = (): Uint8Array => {
      encoded ??= this.cipher?.seal(this.aad(key), this.codec.encode(value)) ?? this.codec.encode(value)
      return encoded
    }
    return { type: 'put', sublevel: this.sub, key, get value () { return encode() }, [SUPERSEDED_BY_LATER]: `${this.name}/${key}` } as unknown as Op
  }

  del (key: string): Op {
    return { type: 'del', sublevel: this.sub, key } as Op
  }

  async get (key: string): Promise<V | undefined> {
    const bytes = await this.sub.get(key)
    return bytes == null ? undefined : this.decode(key, bytes)
  }

  async getMany (keys: string[]): Promise<Array<V | undefined>> {
    if (keys.length === 0) return []
    const found = await this.sub.getMany(keys)
    return found.map((bytes, i) => bytes == null ? undefined : this.decode(keys[i] as string, bytes))
  }

  async keys (range: Range = {}): Promise<string[]> {
    return await this.sub.keys(range).all()
  }

  async entries (range: Range = {}): Promise<Array<[string, V]>> {
    const all = await this.sub.iterator(range).all()
    return all.map(([key, bytes]) => [key, this.decode(key, bytes)])
  }

  async values (range: Range = {}): Promise<V[]> {
    return (await this.entries(range)).map(([, value]) => value)
  }

  private decode (key: string, bytes: Uint8Array): V {
    return this.codec.decode(this.cipher?.open(this.aad(key), bytes) ?? bytes)
  }

  private aad (key: string): string {
    return `${this.name}/${key}`
  }
}
