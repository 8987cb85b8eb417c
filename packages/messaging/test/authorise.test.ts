import { describe, expect, it } from 'vitest'
import { AckStatus } from '@kith/core'
import { authorise } from '../src/authorise.js'
import type { SenderFacts } from '../src/authorise.js'

const OURS = 'our-identity'
const BOB = 'bob-identity'
const base: SenderFacts = { device: 'bob-phone', identity: BOB, ownIdentity: OURS, ownDevice: false, ownRevoked: false, initiates: false, liveInvites: false }
const bob = { peerId: 'bob-phone', identity: BOB }

// Who sent an envelope, decided before any X3DH or ratchet work: each row is one rule.
describe('authorise', () => {
  const cases: Array<[string, Partial<SenderFacts>, ReturnType<typeof authorise>]> = [
    ['the device we met a contact on', { contact: bob }, { as: 'contact' }],
    ['a device in the contact\'s latest list', { device: 'bob-laptop', contact: { ...bob, devices: ['bob-phone', 'bob-laptop'] } }, { as: 'contact' }],
    ['a device the contact\'s list revoked: refused for good', { device: 'bob-tablet', contact: { ...bob, devices: ['bob-phone'], revoked: ['bob-tablet'] } }, { status: AckStatus.REFUSED, reason: 'refusedNotContact' }],
    ['a contact\'s device not in the list we hold yet: again later', { device: 'bob-new', contact: { ...bob, devices: ['bob-phone'] } }, { status: AckStatus.RETRY, reason: 'notYet' }],
    ['a listed device speaking for another identity: forged', { device: 'bob-laptop', identity: 'mallory', contact: { ...bob, devices: ['bob-phone', 'bob-laptop'] } }, { status: AckStatus.INVALID, reason: 'forged' }],
    ['one of our own devices', { identity: OURS, device: 'our-laptop', ownDevice: true }, { as: 'own' }],
    ['our own identity on a device we do not know yet: again later', { identity: OURS, device: 'our-new' }, { status: AckStatus.RETRY, reason: 'notYet' }],
    ['our own revoked device: refused for good', { identity: OURS, device: 'our-old', ownRevoked: true }, { status: AckStatus.REFUSED, reason: 'refusedNotContact' }],
    ['a stranger opening a session while an invite is out', { device: 'carol', identity: 'carol', initiates: true, liveInvites: true }, { as: 'stranger' }],
    ['a stranger opening a session with no invite out', { device: 'carol', identity: 'carol', initiates: true }, { status: AckStatus.REFUSED, reason: 'refusedNotContact' }],
    ['a stranger in an established session (no X3DH): refused', { device: 'carol', identity: 'carol', liveInvites: true }, { status: AckStatus.REFUSED, reason: 'refusedNotContact' }]
  ]
  for (const [name, facts, verdict] of cases) {
    it(name, () => { expect(authorise({ ...base, ...facts })).toEqual(verdict) })
  }
})
