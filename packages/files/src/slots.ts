/**
 * Streams counted per peer and in total: those whose request is being read, and those being
 * served. A slot is taken before an await and given back in a `finally`, so counts never leak.
 */
export class Slots {
  private readonly byPeer = new Map<string, number>()
  private count = 0

  /** Streams held now, by all peers. */
  get total (): number { return this.count }

  /** Streams `peer` holds now. */
  of (peer: string): number { return this.byPeer.get(peer) ?? 0 }

  take (peer: string): void {
    this.byPeer.set(peer, this.of(peer) + 1)
    this.count++
  }

  give (peer: string): void {
    const left = this.of(peer) - 1
    if (left <= 0) this.byPeer.delete(peer)
    else this.byPeer.set(peer, left)
    this.count--
  }
}
