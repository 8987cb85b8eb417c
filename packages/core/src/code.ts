import { createHash } from 'node:crypto'
import type { DecodeErrorFactory } from './canonical.js'

/** Bytes of SHA-256 appended to a code's payload, so a code mangled in copy-paste is caught. */
const CHECKSUM_BYTES = 4
const BASE64URL = /^[A-Za-z0-9_-]+$/

function checksum (payload: Uint8Array): Buffer {
  return createHash('sha256').update(payload).digest().subarray(0, CHECKSUM_BYTES)
}

/** A copy-pasteable code: `prefix` + base64url(payload + the first 4 bytes of its SHA-256). */
export function encodeCode (prefix: string, payload: Uint8Array): string {
  return prefix + Buffer.concat([payload, checksum(payload)]).toString('base64url')
}

/**
 * The payload of a code made by {@link encodeCode}, its length checked before anything else.
 *
 * @param what - names the code in errors ("invite code", "link code")
 * @param wrongPrefix - the message when it does not start with `prefix`
 */
export function decodeCode (code: string, prefix: string, maxChars: number, what: string, wrongPrefix: string, error: DecodeErrorFactory): Uint8Array {
  const trimmed = code.trim()
  if (trimmed.length > maxChars) throw error(`${what} is too long`)
  if (!trimmed.startsWith(prefix)) throw error(wrongPrefix)
  const body = trimmed.slice(prefix.length)
  if (!BASE64URL.test(body)) throw error(`${what} holds characters it cannot hold`)
  const bytes = Buffer.from(body, 'base64url')
  const payload = bytes.subarray(0, Math.max(0, bytes.length - CHECKSUM_BYTES))
  if (bytes.length <= CHECKSUM_BYTES || !checksum(payload).equals(bytes.subarray(payload.length))) {
    throw error(`${what} is damaged (check that it was copied whole)`)
  }
  return payload
}
