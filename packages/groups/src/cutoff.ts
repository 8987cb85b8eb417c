import { InvalidGroupMessageError } from './group.js'
import { RemovalCutoffs } from './proto/group.js'

/**
 * The removal cut-off (docs/groups.md, "Removal cut-off"). A removed member keeps the keys of
 * the epochs before its removal, and members read late content of those epochs (gossip is
 * late), so without a cut-off it could go on posting "into the past" after its removal. The
 * commit that removes it carries, authenticated, the highest generation of its content the
 * committer had read in each epoch it keeps; the removed member's content beyond that is not
 * part of the group's history, for any member, whenever it arrives.
 */

/** Epochs a cut-off covers at most (the states a member keeps, see REORG_WINDOW). */
const MAX_SPAN = 64
/** Devices one commit removes at most, as far as cut-offs go. */
const MAX_DEVICES = 4096

/** Decoded cut-offs: for each removed device, the highest generation read in epochs `from` to `from + span - 1` (-1: none). */
export interface Cutoffs { from: bigint, span: number, devices: Map<string, Int32Array> }

/** No cut-offs at all: everything a removed device sent in the epochs covered is out. */
const NONE: Cutoffs = { from: 0n, span: 0, devices: new Map() }

/**
 * The authenticated data for a commit that removes `devices`: their highest generations read in
 * epochs `from` to `to`, from `highest(epoch, device)`.
 */
export function encodeCutoffs (devices: string[], from: bigint, to: bigint, highest: (epoch: bigint, device: string) => number | undefined): Uint8Array {
  const span = Math.max(0, Math.min(MAX_SPAN, Number(to - from) + 1))
  const generations: number[] = []
  for (const device of devices) {
    for (let i = 0; i < span; i++) generations.push(highest(from + BigInt(i), device) ?? -1)
  }
  return RemovalCutoffs.encode({ from: Number(from), span, devices, generations })
}

/**
 * Cut-offs from a removal commit's authenticated data; empty data means none were given.
 *
 * @throws {InvalidGroupMessageError} when they are malformed or too large: such a commit is not valid
 */
export function decodeCutoffs (bytes: Uint8Array): Cutoffs {
  if (bytes.length === 0) return NONE
  if (bytes.length > MAX_DEVICES * (64 + MAX_SPAN * 6)) throw new InvalidGroupMessageError('removal cut-offs are too large')
  let decoded: RemovalCutoffs
  try {
    decoded = RemovalCutoffs.decode(bytes, { limits: { devices: MAX_DEVICES, generations: MAX_DEVICES * MAX_SPAN } })
  } catch {
    throw new InvalidGroupMessageError('malformed removal cut-offs')
  }
  const { from, span, devices, generations } = decoded
  if (span > MAX_SPAN || generations.length !== devices.length * span || !Number.isSafeInteger(from)) throw new InvalidGroupMessageError('malformed removal cut-offs')
  const map = new Map<string, Int32Array>()
  devices.forEach((device, i) => map.set(device, Int32Array.from(generations.slice(i * span, (i + 1) * span))))
  return { from: BigInt(from), span, devices: map }
}

/**
 * Whether content of `device` from `epoch` (at `generation`, when known) is within the cut-offs
 * of the commit that removed it. Epochs before the ones covered are no member's to read any more.
 */
export function withinCutoff (cutoffs: Cutoffs, device: string, epoch: bigint, generation: number | undefined): boolean {
  if (epoch < cutoffs.from) return true
  const highest = cutoffs.devices.get(device)?.[Number(epoch - cutoffs.from)] ?? -1
  // Unknown generations come from catch-up, which takes texts from members only.
  return highest >= 0 && (generation == null || generation <= highest)
}
