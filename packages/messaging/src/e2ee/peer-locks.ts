/**
 * One holder at a time per peer: a session's state is read, advanced and written back as one
 * step, so a message sent while another is received never works from a stale state (which
 * would reuse a message key).
 */
export class PeerLocks {
  private readonly tails = new Map<string, Promise<void>>()

  async run<T> (peers: string[], fn: () => Promise<T>): Promise<T> {
    const keys = [...new Set(peers)].sort()
    const previous = keys.map(k => this.tails.get(k) ?? Promise.resolve())
    let release!: () => void
    const held = new Promise<void>(resolve => { release = resolve })
    for (const k of keys) this.tails.set(k, held)
    try {
      await Promise.all(previous)
      return await fn()
    } finally {
      release()
      for (const k of keys) if (this.tails.get(k) === held) this.tails.delete(k)
    }
  }
}
