import fc from 'fast-check'
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FILES_PROTOCOL, fromHex } from '@kith/core'
import { chunkCount, openChunk, sealChunk } from '@kith/files'
import { FileKind, FileRequest, FileResponse, FileStatus, decodeRequest, decodeResponse } from '../../packages/files/src/wire.js'
import { befriend, eventually, tempDir, trackNodes } from '../helpers/testnet.js'
import { SIZE_WORDS, huge, inputs, params, throwsOnly, timeoutFor } from './helpers.js'
import { exchange, firstFrame, introduce, streamInput, unframe } from './net.js'

// /kith/files: a request frame from any peer that connects (served only to the devices of the
// file's conversations), responses a downloader reads from the devices it asks, and chunks
// it opens.

const MAX_REQUEST = 256
const request = (root: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> => fc.record({
  root,
  kind: fc.constantFrom(FileKind.HAVE, FileKind.LEAVES, FileKind.CHUNKS, FileKind.UNKNOWN_KIND),
  start: fc.oneof(fc.constant(0), fc.nat({ max: 2 ** 32 - 1 })),
  count: fc.oneof(fc.integer({ min: 0, max: 17 }), fc.nat({ max: 2 ** 32 - 1 }))
}).map(r => FileRequest.encode(r))

const node = trackNodes()

describe('fuzz: files', () => {
  it('decodeRequest throws only InvalidMessageError or MessageTooLargeError, and refuses 10 MB by its size', () => {
    fc.assert(fc.property(inputs(request(fc.uint8Array({ minLength: 32, maxLength: 32 })), 400), input => {
      throwsOnly(decodeRequest, input, ['InvalidMessageError', 'MessageTooLargeError'])
    }), params())
    expect(throwsOnly(decodeRequest, huge(), ['MessageTooLargeError'])?.message).toMatch(SIZE_WORDS)
  }, timeoutFor(2))

  it('decodeResponse throws only InvalidMessageError', () => {
    const response = fc.record({
      status: fc.constantFrom(FileStatus.OK, FileStatus.MISSING, FileStatus.NOT_FOUND, FileStatus.BUSY, FileStatus.INVALID),
      chunks: fc.nat({ max: 100 }),
      complete: fc.boolean(),
      have: fc.uint8Array({ maxLength: 16 })
    }).map(r => FileResponse.encode(r))
    fc.assert(fc.property(inputs(response), fc.nat({ max: 100 }), (input, chunks) => {
      throwsOnly(r => decodeResponse(r, chunks), input, ['InvalidMessageError'])
    }), params())
  }, timeoutFor(2))

  it('openChunk throws only FileCorruptError for damaged chunks', () => {
    const key = randomBytes(32)
    const sealed = fc.uint8Array({ maxLength: 200 }).map(plain => new Uint8Array(sealChunk(key, 0, 1, plain)))
    fc.assert(fc.property(inputs(sealed), fc.nat({ max: 2 }), (input, i) => {
      throwsOnly(s => openChunk(key, i, 3, s), input, ['FileCorruptError'])
    }), params())
  }, timeoutFor(2))

  it('/kith/files answers junk with INVALID and counts it, serves what is well-formed, and the contact still downloads the file', async () => {
    const dir = await tempDir()
    try {
      const alice = await node('alice', { autoDownloadBytes: 0 })
      const bob = await node('bob', { autoDownloadBytes: 0 })
      await befriend(alice, bob)
      const content = randomBytes(2_500_000)
      const path = join(dir.path, 'shared.bin')
      await writeFile(path, content)
      const sent = await alice.sendFile('bob', path)
      const root = fromHex(sent.file?.hash as string)
      await eventually(async () => (await bob.history('alice')).some(m => m.id === sent.id), 20_000, 'the offer')
      await introduce(bob.libp2p, alice.libp2p)

      // bob may have this file: well-formed requests for it are served, so the fuzz reaches
      // the serving code (ranges past the end, every kind) as well as the decoder.
      const frame = inputs(request(fc.oneof(fc.constant(root), fc.uint8Array({ minLength: 32, maxLength: 32 }))), 400)
      let invalid = 0
      let lost = 0
      const before = alice.status().files.invalidRequests
      await fc.assert(fc.asyncProperty(streamInput(frame, MAX_REQUEST, 1), async chunks => {
        const { received, connectionLost } = await exchange(bob.libp2p, alice.peerId, FILES_PROTOCOL, chunks)
        if (connectionLost) { lost++; return }
        const first = firstFrame(chunks, MAX_REQUEST)
        let malformed = first.kind === 'oversized'
        if (first.kind === 'frame') {
          malformed = throwsOnly(decodeRequest, first.frame, ['InvalidMessageError', 'MessageTooLargeError']) != null
          // A well-formed request for chunks past the end of a file the node holds is invalid too.
          if (!malformed) {
            const { root: asked, kind, start, count } = decodeRequest(first.frame)
            malformed = Buffer.from(asked).equals(root) && kind === FileKind.CHUNKS && start + count > chunkCount(content.length)
          }
        }
        if (malformed) invalid++
        const [answer] = unframe(received)
        if (malformed) expect(answer != null && FileResponse.decode(answer).status).toBe(FileStatus.INVALID)
        else if (answer != null) expect(FileResponse.decode(answer).status).not.toBe(FileStatus.INVALID)
      }), params(0.5))
      expect(invalid).toBeGreaterThan(0)
      // One for one; a run whose connection was dropped under it may or may not have been counted.
      const counted = alice.status().files.invalidRequests - before
      expect(counted).toBeGreaterThanOrEqual(invalid)
      expect(counted).toBeLessThanOrEqual(invalid + lost)

      const saved = await bob.saveFile(sent.id, join(dir.path, 'copy.bin'))
      expect((await readFile(saved.path)).equals(content)).toBe(true)
    } finally {
      await dir.cleanup()
    }
  }, timeoutFor(60, 0.5))
})
