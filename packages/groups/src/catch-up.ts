import { lengthPrefixed } from '@kith/core'
import { lpStream } from '@libp2p/utils'
import { MemorySyncStorage, Reconciler } from '@kith/sync'
import { InvalidGroupMessageError } from './group.js'
import { SyncFrame, SyncRecord } from './proto/group.js'
import { verifyText } from './text.js'
import type { GroupMessage, GroupReplica } from './replica.js'
import type { PeerId, Stream } from '@libp2p/interface'

/**
 * Catch-up for a member that was away (docs/groups.md, "Catching up"), on `/kith/sync/1.0.0`
 * between two members over a Noise-authenticated stream:
 *
 * 1. hello: the requester names the group, its epoch and the epoch it joined at; the responder serves only a device
 *    that is a member of its current group (a former member gets the commits up to its
 *    removal, then the stream ends);
 * 2. commits: the responder sends its chosen chain's commits since that epoch, which the
 *    requester applies by the usual rules;
 * 3. recon: range-based set reconciliation of the two histories' (time, id) sets (the
 *    responder's from the requester's join on), whose cost grows with their difference;
 * 4. want / records: the requester fetches what it lacks and hands over what the responder
 *    lacks.
 */
export const SYNC_PROTOCOL = '/kith/sync/1.0.0'

const HELLO = 1
const COMMITS = 2
const RECON = 3
const WANT = 4
const RECORDS = 5
const REFUSED = 6

/** Largest frame read, checked before decoding (a reconciliation message is at most 256 KiB). */
const MAX_FRAME_BYTES = 4 * 1024 * 1024
/** Reconciliation rounds allowed before the exchange is given up. */
const MAX_ROUNDS = 64
/** Texts handed over in one frame at most (the requester asks again for the rest next time). */
const MAX_RECORDS = 2000
const MAX_TEXT_BYTES = 64 * 1024

/** What one catch-up did. */
export interface CatchUpResult { commits: number, fetched: number, pushed: number }

/** Options of {@link catchUp}. */
export interface CatchUpOptions {
  /** Collects what the replica wants published after taking the commits in (a commit of ours, texts sent again). */
  outgoing?: Uint8Array[]
}

/** A catch-up refused or broken off by the other side. */
export class CatchUpError extends InvalidGroupMessageError { static override name = 'CatchUpError' }

/**
 * Ask `peer`'s member (on `stream`) for what `replica` missed, and hand over what it lacks.
 * What taking the commits in makes the replica send is collected in `options.outgoing`, for the
 * caller to publish (after storing the replica's state).
 */
export async function catchUp (stream: Stream, replica: GroupReplica, options: CatchUpOptions = {}): Promise<CatchUpResult> {
  const frames = framesOf(stream)
  await frames.write({ kind: HELLO, group: Buffer.from(replica.head.id, 'hex'), epoch: Number(replica.head.epoch), joined: Number(replica.joined) })
  const commits = await frames.read(COMMITS)
  for (const commit of commits.parts.slice(0, MAX_ROUNDS * 8)) {
    try {
      const outgoing = await replica.receive(commit)
      options.outgoing?.push(...outgoing)
    } catch (err) {
      if (!(err instanceof InvalidGroupMessageError)) throw err // a malformed one: the rules judge the rest
    }
  }
  if (replica.removed) {
    await stream.close()
    return { commits: commits.parts.length, fetched: 0, pushed: 0 }
  }

  const reconciler = new Reconciler(storageOf(replica.history()))
  const need: Uint8Array[] = []
  const have: Uint8Array[] = []
  let message: Uint8Array | undefined = reconciler.initiate()
  for (let round = 0; message != null; round++) {
    if (round >= MAX_ROUNDS) throw new CatchUpError('reconciliation did not finish')
    await frames.write({ kind: RECON, parts: [message] })
    const result = reconciler.reconcile(only((await frames.read(RECON)).parts))
    need.push(...result.need)
    have.push(...result.have)
    message = result.reply
  }
  await frames.write({ kind: WANT, parts: need.slice(0, MAX_RECORDS) })
  const members = new Set(replica.head.members().map(m => m.device))
  const fetched = replica.merge(decodeRecords((await frames.read(RECORDS)).parts, replica.head.id, members, replica.joined))
  const mine = new Map(replica.history().map(m => [m.id, m]))
  const pushed = have.map(id => mine.get(Buffer.from(id).toString('hex'))).filter(m => m != null).slice(0, MAX_RECORDS)
  await frames.write({ kind: RECORDS, parts: pushed.map(encodeRecord) })
  await stream.close()
  return { commits: commits.parts.length, fetched: fetched.length, pushed: pushed.length }
}

/**
 * Serve a catch-up to `remote`, for the group `find` returns (if we are in it and `remote`'s
 * device is a member). Returns the group (id, hex) and the texts the requester handed over
 * that were new to us.
 */
export async function serveCatchUp (stream: Stream, remote: PeerId, find: (groupId: string) => GroupReplica | undefined): Promise<{ group: string, added: GroupMessage[] }> {
  const frames = framesOf(stream)
  try {
    const hello = await frames.read(HELLO)
    const group = Buffer.from(hello.group).toString('hex')
    const replica = find(group)
    const members = new Set(replica?.head.members().map(m => m.device) ?? [])
    if (replica == null || replica.removed || !members.has(remote.toString())) {
      // A former member gets the commits up to its removal, so it learns it is out; nothing else.
      const removal = replica?.removed === false ? replica.commitsUntilRemoved(BigInt(hello.epoch), remote.toString()) : []
      await frames.write(removal.length > 0 ? { kind: COMMITS, parts: removal } : { kind: REFUSED })
      await stream.close()
      return { group, added: [] }
    }
    await frames.write({ kind: COMMITS, parts: replica.commitsSince(BigInt(hello.epoch)) })
    // Texts from before the requester joined are not its to read (a courtesy of honest members:
    // MLS kept it from reading them when they were sent).
    const visible = replica.history().filter(m => m.epoch >= BigInt(hello.joined))
    const reconciler = new Reconciler(storageOf(visible))
    let frame = await frames.read()
    for (let round = 0; frame.kind === RECON; round++) {
      if (round >= MAX_ROUNDS) throw new CatchUpError('reconciliation did not finish')
      const { reply } = reconciler.reconcile(only(frame.parts))
      await frames.write({ kind: RECON, parts: reply != null ? [reply] : [] })
      frame = await frames.read()
    }
    if (frame.kind !== WANT) throw new CatchUpError('expected a want frame')
    const mine = new Map(visible.map(m => [m.id, m]))
    const wanted = frame.parts.slice(0, MAX_RECORDS).map(id => mine.get(Buffer.from(id).toString('hex'))).filter(m => m != null)
    await frames.write({ kind: RECORDS, parts: wanted.map(encodeRecord) })
    const added = replica.merge(decodeRecords((await frames.read(RECORDS)).parts, replica.head.id, members, replica.joined))
    await stream.close()
    return { group, added }
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
}

/** A frame to send: parts of any byte arrays. */
interface OutFrame { kind: number, group?: Uint8Array, epoch?: number, joined?: number, parts?: Uint8Array[] }

function framesOf (stream: Stream): { read: (kind?: number) => Promise<SyncFrame>, write: (frame: OutFrame) => Promise<void> } {
  const lp = lpStream(stream, lengthPrefixed(MAX_FRAME_BYTES))
  return {
    async read (kind) {
      let frame: SyncFrame
      try {
        frame = SyncFrame.decode(await lp.read(), { limits: { parts: MAX_RECORDS + MAX_ROUNDS * 8 } })
      } catch (err: any) {
        throw new CatchUpError(`malformed catch-up frame: ${err?.message ?? err}`)
      }
      if (frame.kind === REFUSED) throw new CatchUpError('the other member refused to catch us up')
      if (kind != null && frame.kind !== kind) throw new CatchUpError(`expected frame ${kind}, got ${frame.kind}`)
      return frame
    },
    async write (frame) { await lp.write(SyncFrame.encode(frame as Partial<SyncFrame>)) }
  }
}

/** The one reconciliation message a recon frame carries. */
function only (parts: Uint8Array[]): Uint8Array {
  if (parts.length !== 1) throw new CatchUpError('a recon frame carries one message')
  return parts[0] as Uint8Array
}

function storageOf (messages: GroupMessage[]): MemorySyncStorage {
  return new MemorySyncStorage(messages.map(m => ({ ts: m.ts, id: Buffer.from(m.id, 'hex') })))
}

function encodeRecord (m: GroupMessage): Uint8Array {
  return SyncRecord.encode({ id: Buffer.from(m.id, 'hex') as Uint8Array<ArrayBuffer>, sender: m.sender, ts: m.ts, text: m.text, epoch: Number(m.epoch), signature: m.signature as Uint8Array<ArrayBuffer>, ...(m.generation != null ? { generation: m.generation } : {}) })
}

/**
 * Texts handed over, checked: well-formed, of sane size, signed by their sender for this group
 * and the epoch they claim, from a device that is a member now, and from no earlier than the
 * epoch we joined at (`joined`). What fails is dropped.
 */
function decodeRecords (parts: Uint8Array[], groupId: string, members: Set<string>, joined: bigint): GroupMessage[] {
  const messages: GroupMessage[] = []
  for (const part of parts.slice(0, MAX_RECORDS)) {
    if (part.length > MAX_TEXT_BYTES + 256) continue
    let record: SyncRecord
    try {
      record = SyncRecord.decode(part)
    } catch {
      continue
    }
    if (record.id.length !== 16 || !members.has(record.sender) || !Number.isSafeInteger(record.ts) || record.ts < 0 || BigInt(record.epoch) < joined) continue
    const message = { id: Buffer.from(record.id).toString('hex'), sender: record.sender, ts: record.ts, text: record.text, epoch: BigInt(record.epoch), signature: record.signature, ...(record.generation != null ? { generation: record.generation } : {}) }
    if (verifyText(groupId, message.epoch, record.sender, message)) messages.push(message)
  }
  return messages
}
