import fc from 'fast-check'
import type { Parameters as FcParameters } from 'fast-check'

/**
 * Shared ground of the fuzz tests (test/fuzz/*.test.ts): how many cases each property runs,
 * inputs that break things (arbitrary bytes, valid encodings mutated), and the check that a
 * decoder throws nothing but the named errors it documents.
 *
 * `KITH_FUZZ_RUNS` sets the cases of every property (`npm run fuzz` sets 100,000). Unset, CI's
 * count: 200 per property, a share of that for the dearer ones (a stream to a node per case).
 * `KITH_FUZZ_SEED` replays a failure: fast-check prints the seed (and path) with it.
 */
const GIVEN = positiveInt(process.env.KITH_FUZZ_RUNS)
export const RUNS = GIVEN ?? 200
const SEED = process.env.KITH_FUZZ_SEED != null ? Number(process.env.KITH_FUZZ_SEED) : undefined

function positiveInt (raw: string | undefined): number | undefined {
  const value = Number(raw)
  return raw != null && Number.isSafeInteger(value) && value > 0 ? value : undefined
}

/** Cases for a property: `KITH_FUZZ_RUNS` when given, else CI's 200 times `share`. */
export function runs (share = 1): number {
  return GIVEN ?? Math.max(1, Math.round(RUNS * share))
}

/** fast-check parameters: {@link runs} cases, and the seed when replaying. */
export function params<T> (share = 1): FcParameters<T> {
  return { numRuns: runs(share), ...(SEED != null ? { seed: SEED } : {}) }
}

/** `count` values of `arbitrary`, for pools made up front (signing is async); seeded like the properties. */
export function sample<T> (arbitrary: fc.Arbitrary<T>, count: number): T[] {
  return fc.sample(arbitrary, { numRuns: count, ...(SEED != null ? { seed: SEED } : {}) })
}

/**
 * A test timeout that grows with the cases: `perRunMs` for each, never under a minute.
 * Generous on purpose (two shared cores); it catches hangs, it does not measure speed.
 */
export function timeoutFor (perRunMs: number, share = 1): number {
  return Math.max(60_000, Math.ceil(runs(share) * perRunMs) + 30_000)
}

/** Arbitrary bytes, mostly short (where parsers branch), sometimes up to `max`. */
export function bytes (max = 2048): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: max }) }
  )
}

/** A varint as protobuf writes it. */
export function varint (value: number): Uint8Array {
  const out: number[] = []
  for (; value >= 0x80; value = Math.floor(value / 0x80)) out.push((value % 0x80) | 0x80)
  out.push(value)
  return Uint8Array.from(out)
}

type Mutation = (input: Uint8Array) => Uint8Array

const at = (input: Uint8Array, where: number): number => input.length === 0 ? 0 : where % (input.length + 1)
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts))

/** One change to a valid encoding: what a bug, a bad link or an attacker makes of it. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // Flip one bit.
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })).map(([where, bit]): Mutation => input => {
    if (input.length === 0) return input
    const out = Uint8Array.from(input)
    const i = where % out.length
    out[i] = (out[i] as number) ^ (1 << bit)
    return out
  }),
  // Set a byte to a value parsers care about.
  fc.tuple(fc.nat(), fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xff, 0x08, 0x0a, 0x12)).map(([where, value]): Mutation => input => {
    if (input.length === 0) return input
    const out = Uint8Array.from(input)
    out[where % out.length] = value
    return out
  }),
  // Cut it short.
  fc.nat().map((where): Mutation => input => input.subarray(0, input.length === 0 ? 0 : where % input.length)),
  // Drop a slice from the middle.
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 16 })).map(([where, count]): Mutation => input => {
    const i = at(input, where)
    return concat(input.subarray(0, i), input.subarray(i + count))
  }),
  // Insert random bytes.
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 32 })).map(([where, extra]): Mutation => input => {
    const i = at(input, where)
    return concat(input.subarray(0, i), extra, input.subarray(i))
  }),
  // Append random bytes (a trailing field, garbage after the end).
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((extra): Mutation => input => concat(input, extra)),
  // Append a field claiming a huge length: tag, then a length varint far past the end.
  fc.tuple(fc.integer({ min: 1, max: 31 }), fc.constantFrom(0x7fffffff, 2 ** 32 - 1, 2 ** 53 - 1, 1 << 20)).map(([field, length]): Mutation => input =>
    concat(input, Uint8Array.of((field << 3) | 2), varint(length))),
  // Overwrite a byte with a long varint (a length or count that is far too big).
  fc.nat().map((where): Mutation => input => {
    const i = at(input, where)
    return concat(input.subarray(0, i), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f), input.subarray(i + 1))
  }),
  // Repeat a slice (a repeated field, a field given twice).
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 64 })).map(([where, count]): Mutation => input => {
    const i = at(input, where)
    return concat(input.subarray(0, i + count), input.subarray(i))
  })
)

/** `valid` with one to three mutations. */
export function mutated (valid: fc.Arbitrary<Uint8Array> | Uint8Array): fc.Arbitrary<Uint8Array> {
  const source = valid instanceof Uint8Array ? fc.constant(valid) : valid
  return fc.tuple(source, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([input, changes]) => changes.reduce((out, change) => change(out), input))
}

/** `valid` with one to four bits flipped: its length and structure kept, so the parser gets further (to signatures, MACs, field checks). */
export function flipped (valid: fc.Arbitrary<Uint8Array> | Uint8Array): fc.Arbitrary<Uint8Array> {
  const source = valid instanceof Uint8Array ? fc.constant(valid) : valid
  return fc.tuple(source, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 })).map(([input, flips]) => {
    const out = Uint8Array.from(input)
    if (out.length === 0) return out
    for (const [where, bit] of flips) out[where % out.length] = (out[where % out.length] as number) ^ (1 << bit)
    return out
  })
}

/** Arbitrary bytes, valid encodings as they are, and valid encodings mutated. */
export function inputs (valid: fc.Arbitrary<Uint8Array>, max = 2048): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 2, arbitrary: bytes(max) },
    { weight: 1, arbitrary: valid },
    { weight: 3, arbitrary: flipped(valid) },
    { weight: 4, arbitrary: mutated(valid) }
  )
}

/** An error that is none of the named ones `call` may throw. */
export class UnexpectedError extends Error {
  static override name = 'UnexpectedError'
}

const hex = (input: unknown): string => input instanceof Uint8Array ? Buffer.from(input).toString('hex').slice(0, 400) : String(input).slice(0, 400)

function check (err: any, allowed: readonly string[], input: unknown): void {
  if (err instanceof Error && allowed.includes(err.name) && err.constructor !== Error) return
  throw new UnexpectedError(`threw ${err?.name ?? typeof err} (${err?.message}), not one of ${allowed.join(', ')}; input ${hex(input)}`, { cause: err })
}

/**
 * Call `call(input)`: it may return, or throw one of the `allowed` named errors (an instance of
 * a class of that name, not a bare `Error` renamed); anything else fails the property.
 * Returns the error it threw, if any.
 */
export function throwsOnly<I> (call: (input: I) => unknown, input: I, allowed: readonly string[]): Error | undefined {
  try {
    call(input)
    return undefined
  } catch (err: any) {
    check(err, allowed, input)
    return err
  }
}

/** {@link throwsOnly} for async calls. */
export async function rejectsOnly<I> (call: (input: I) => Promise<unknown>, input: I, allowed: readonly string[]): Promise<Error | undefined> {
  try {
    await call(input)
    return undefined
  } catch (err: any) {
    check(err, allowed, input)
    return err
  }
}

/** A 10 MB input that starts like `valid`: a size check that runs before parsing refuses it by its size. */
export function huge (valid: Uint8Array = new Uint8Array(0), size = 10 * 1024 * 1024): Uint8Array {
  const out = new Uint8Array(size)
  out.set(valid.subarray(0, size))
  for (let i = valid.length; i < size; i += 4093) out[i] = i & 0xff
  return out
}

/**
 * What the size check says: the error a decoder throws for a 10 MB input must name the size,
 * not a parse failure, so it was refused before the parser ran.
 */
export const SIZE_WORDS = /too large|too long|larger than|exceeds|oversized|at most|bytes/i
