import { hkdf, x25519 } from '../primitives.js'
import { concatBytes } from './bytes.js'

/**
 * The X3DH key schedule (https://signal.org/docs/specifications/x3dh/, section 3.3), apart from
 * key generation and bundle checks so that libsignal's published session vectors can be run
 * against the exact DH order used here.
 */

// Encode(PK) from the spec: one byte naming the curve (0x05 = Curve25519, as in libsignal), then
// the 32-byte u-coordinate.
const CURVE25519_TYPE = 0x05

/** Encode(PK): 0x05 || 32-byte X25519 public key. */
export function encodeDhPublicKey (publicKey: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(CURVE25519_TYPE), publicKey)
}

/**
 * The initiator's (Alice's) DH outputs, in spec order: DH1 = DH(IK_A, SPK_B), DH2 = DH(EK_A, IK_B),
 * DH3 = DH(EK_A, SPK_B), DH4 = DH(EK_A, OPK_B) when a one-time prekey is used.
 *
 * @throws TypeError when a public key is low-order (the DH output would be all zeros)
 */
export function initiatorAgreements (identityPrivate: Uint8Array, ephemeralPrivate: Uint8Array, theirIdentity: Uint8Array, theirSignedPreKey: Uint8Array, theirOneTimePreKey?: Uint8Array): Uint8Array[] {
  const dhs = [x25519(identityPrivate, theirSignedPreKey), x25519(ephemeralPrivate, theirIdentity), x25519(ephemeralPrivate, theirSignedPreKey)]
  if (theirOneTimePreKey != null) dhs.push(x25519(ephemeralPrivate, theirOneTimePreKey))
  return dhs
}

/**
 * The responder's (Bob's) DH outputs, mirroring {@link initiatorAgreements}: DH(SPK_B, IK_A),
 * DH(IK_B, EK_A), DH(SPK_B, EK_A) and DH(OPK_B, EK_A) when a one-time prekey was used.
 *
 * @throws TypeError when a public key is low-order
 */
export function responderAgreements (identityPrivate: Uint8Array, signedPreKeyPrivate: Uint8Array, theirIdentity: Uint8Array, theirEphemeral: Uint8Array, oneTimePreKeyPrivate?: Uint8Array): Uint8Array[] {
  const dhs = [x25519(signedPreKeyPrivate, theirIdentity), x25519(identityPrivate, theirEphemeral), x25519(signedPreKeyPrivate, theirEphemeral)]
  if (oneTimePreKeyPrivate != null) dhs.push(x25519(oneTimePreKeyPrivate, theirEphemeral))
  return dhs
}

/**
 * KDF(KM) = HKDF-SHA-256(ikm = F || KM, salt = 32 zero bytes, info), with F = 32 0xFF bytes (for
 * X25519) so the input can never be mistaken for an XEdDSA signing input.
 */
export function x3dhKdf (dhOutputs: Uint8Array[], info: string, length: number): Uint8Array {
  const ikm = concatBytes(new Uint8Array(32).fill(0xff), ...dhOutputs)
  const out = hkdf(ikm, new Uint8Array(32), info, length)
  ikm.fill(0)
  return out
}
