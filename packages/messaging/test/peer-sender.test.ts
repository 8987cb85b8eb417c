import { afterEach, describe, expect, it, vi } from 'vitest'
import { Ack, AckStatus, fromHex, random, toHex } from '@kith/core'
import { lpStream, streamPair } from '@libp2p/utils'
import { PeerSender } from '../src/peer-sender.js'
import { Pulse } from '../src/pulse.js'
import type { OutboxEntry } from '@kith/store'
import type { Logger, Stream } from '@libp2p/interface'

/** An outbox entry whose "envelope" is its id, so the fake receiver can ack it. */
function entry (seq: number): OutboxEntry {
  const id = random(16)
  return { id: toHex(id), peer: 'peer', seq, envelope: id }
}

/** The receiving end of one stream the sender opened, played by the test. */
interface Remote {
  stream: Stream
  read: () => Promise<string>
  ack: (id: string, status?: AckStatus) => Promise<void>
}

async function eventually (check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

const senders: PeerSender[] = []
afterEach(() => { for (const s of senders.splice(0)) s.stop() })

/** A PeerSender over in-memory streams; `failOpens` makes that many openStream calls fail first. */
function harness (options: { window?: number, failOpens?: number, open?: () => Promise<Stream> } = {}): {
  sender: PeerSender, remotes: Remote[], sent: string[], settled: Array<[string, string]>, opens: () => number, failures: () => number
} {
  const remotes: Remote[] = []
  const sent: string[] = []
  const settled: Array<[string, string]> = []
  let opens = 0
  // The sender logs each failure just before it starts its backoff.
  let failures = 0
  const log = Object.assign((format: string) => { if (format.startsWith('delivery failed')) failures++ }, { error: () => {}, trace: () => {}, enabled: false }) as unknown as Logger
  let failOpens = options.failOpens ?? 0
  const sender = new PeerSender({
    log,
    ...(options.window != null ? { window: options.window } : {}),
    openStream: async () => {
      opens++
      if (options.open != null) return await options.open()
      if (failOpens > 0) { failOpens--; throw new Error('dial failed') }
      const [local, remote] = await streamPair()
      const lp = lpStream(remote)
      remotes.push({
        stream: remote,
        read: async () => toHex((await lp.read({ signal: AbortSignal.timeout(5_000) })).subarray()),
        ack: async (id, status = AckStatus.OK) => { await lp.write(Ack.encode({ id: fromHex(id), status })) }
      })
      return local
    },
    sent: entries => { sent.push(...entries.map(e => e.id)) },
    settled: (entries, status) => { settled.push(...entries.map(e => [e.id, status] as [string, string])) }
  })
  senders.push(sender)
  return { sender, remotes, sent, settled, opens: () => opens, failures: () => failures }
}

describe('Pulse', () => {
  it('wakes every waiter on notify', async () => {
    const pulse = new Pulse()
    let woken = 0
    const waiting = [pulse.wait(60_000), pulse.wait(60_000)].map(async p => { await p; woken++ })
    expect(woken).toBe(0)
    pulse.notify()
    await Promise.all(waiting)
    expect(woken).toBe(2)
  })

  it('wakes on timeout when nobody notifies', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const pulse = new Pulse()
      let woken = false
      const waiting = pulse.wait(1_000).then(() => { woken = true })
      await vi.advanceTimersByTimeAsync(999)
      expect(woken).toBe(false)
      await vi.advanceTimersByTimeAsync(1)
      await waiting
      expect(woken).toBe(true)
    } finally {
      vi.useRealTimers()
    }
  })

  it('does not wake a later waiter with an earlier notify', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const pulse = new Pulse()
      pulse.notify()
      let woken = false
      const waiting = pulse.wait(500).then(() => { woken = true })
      await vi.advanceTimersByTimeAsync(0)
      expect(woken).toBe(false)
      await vi.advanceTimersByTimeAsync(500)
      await waiting
      expect(woken).toBe(true)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('PeerSender', () => {
  it('sends in seq order even when entries are queued out of order, once each', async () => {
    const { sender, remotes, sent } = harness()
    const [a, b, c] = [entry(1), entry(2), entry(3)]
    sender.enqueue(c)
    sender.enqueue(a)
    sender.enqueue(b)
    sender.enqueue(a)
    expect(sender.pending).toBe(3)
    await eventually(() => remotes.length === 1, 'a stream')
    const remote = remotes[0] as Remote
    expect([await remote.read(), await remote.read(), await remote.read()]).toEqual([a.id, b.id, c.id])
    await eventually(() => sent.length === 3, 'sent callbacks')
    expect(sent).toEqual([a.id, b.id, c.id])
  })

  it('settles in order: delivered for OK and DUPLICATE, refused for REFUSED and INVALID', async () => {
    const { sender, remotes, settled } = harness()
    const entries = [entry(1), entry(2), entry(3), entry(4)]
    for (const e of entries) sender.enqueue(e)
    await eventually(() => remotes.length === 1, 'a stream')
    const remote = remotes[0] as Remote
    for (const e of entries) expect(await remote.read()).toBe(e.id)
    const statuses = [AckStatus.OK, AckStatus.DUPLICATE, AckStatus.REFUSED, AckStatus.INVALID]
    for (const [i, e] of entries.entries()) await remote.ack(e.id, statuses[i])
    await eventually(() => settled.length === 4, 'settled callbacks')
    expect(settled).toEqual([[entries[0]?.id, 'delivered'], [entries[1]?.id, 'delivered'], [entries[2]?.id, 'refused'], [entries[3]?.id, 'refused']])
    expect(sender.pending).toBe(0)
  })

  it('keeps at most `window` envelopes unacked on the wire, and records `sent` for those left unacked a moment', async () => {
    const { sender, remotes, sent } = harness({ window: 2 })
    const entries = [entry(1), entry(2), entry(3), entry(4), entry(5)]
    for (const e of entries) sender.enqueue(e)
    await eventually(() => remotes.length === 1, 'a stream')
    const remote = remotes[0] as Remote
    expect([await remote.read(), await remote.read()]).toEqual([entries[0]?.id, entries[1]?.id])
    await eventually(() => sent.length === 2, 'sent callbacks')
    await remote.ack(entries[0]?.id ?? '')
    expect(await remote.read()).toBe(entries[2]?.id)
    await eventually(() => sent.length === 3, 'the third sent callback')
    expect(sent).toEqual(entries.slice(0, 3).map(e => e.id))
  })

  it('drops the stream on an out-of-order ack and resends everything unacked on a new one', async () => {
    const { sender, remotes, settled, failures } = harness()
    const [a, b, c] = [entry(1), entry(2), entry(3)]
    for (const e of [a, b, c]) sender.enqueue(e)
    await eventually(() => remotes.length === 1, 'a stream')
    const first = remotes[0] as Remote
    for (const e of [a, b, c]) expect(await first.read()).toBe(e.id)
    await first.ack(a.id)
    await first.ack(c.id)
    await eventually(() => failures() === 1, 'the session failing')
    sender.wake()
    await eventually(() => remotes.length === 2, 'a second stream')
    expect(first.stream.status).not.toBe('open')
    const second = remotes[1] as Remote
    expect([await second.read(), await second.read()]).toEqual([b.id, c.id])
    await second.ack(b.id)
    await second.ack(c.id)
    await eventually(() => settled.length === 3, 'settled callbacks')
    expect(settled).toEqual([[a.id, 'delivered'], [b.id, 'delivered'], [c.id, 'delivered']])
  })

  it('retries a failed openStream after a doubling backoff, or at once on wake(), until stopped', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const { sender, opens } = harness({ failOpens: Infinity })
      sender.enqueue(entry(1))
      await vi.advanceTimersByTimeAsync(0)
      expect(opens()).toBe(1)
      // First backoff is 1 s with ±25 % jitter.
      await vi.advanceTimersByTimeAsync(740)
      expect(opens()).toBe(1)
      sender.wake()
      await vi.advanceTimersByTimeAsync(0)
      expect(opens()).toBe(2)
      // Second backoff is 2 s ± 25 %.
      await vi.advanceTimersByTimeAsync(1_490)
      expect(opens()).toBe(2)
      await vi.advanceTimersByTimeAsync(1_020)
      expect(opens()).toBe(3)
      expect(sender.pending).toBe(1)

      sender.stop()
      await vi.advanceTimersByTimeAsync(120_000)
      expect(opens()).toBe(3)
      sender.enqueue(entry(2))
      await vi.advanceTimersByTimeAsync(120_000)
      expect(opens()).toBe(3)
    } finally {
      vi.useRealTimers()
    }
  })

  it('retries at once when the peer came back while an attempt was failing', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      // A dial to a stale address hangs; meanwhile the peer connects to us (peer:connect → wake).
      let fail: (err: Error) => void = () => {}
      const { sender, opens } = harness({ open: async () => await new Promise<Stream>((_resolve, reject) => { fail = reject }) })
      sender.enqueue(entry(1))
      await vi.advanceTimersByTimeAsync(0)
      expect(opens()).toBe(1)
      sender.wake()
      fail(new Error('dial timed out'))
      await vi.advanceTimersByTimeAsync(0)
      // The peer is known to be back: waiting out the backoff (up to a minute) would only delay.
      expect(opens()).toBe(2)
    } finally {
      vi.useRealTimers()
    }
  })

  it('delivers once the peer can be reached again', async () => {
    const { sender, remotes, settled, opens, failures } = harness({ failOpens: 2 })
    const e = entry(1)
    sender.enqueue(e)
    await eventually(() => failures() === 1, 'first attempt failing')
    sender.wake()
    await eventually(() => failures() === 2, 'second attempt failing')
    sender.wake()
    await eventually(() => remotes.length === 1, 'a stream')
    const remote = remotes[0] as Remote
    await remote.ack(await remote.read())
    await eventually(() => settled.length === 1, 'settled callback')
    expect(settled).toEqual([[e.id, 'delivered']])
    expect(opens()).toBe(3)
  })

  it('skips the `sent` write for an envelope acked at once (delivered supersedes it)', async () => {
    const { sender, remotes, sent, settled } = harness()
    const a = entry(1)
    sender.enqueue(a)
    await eventually(() => remotes.length === 1, 'a stream')
    const remote = remotes[0] as Remote
    expect(await remote.read()).toBe(a.id)
    await remote.ack(a.id)
    await eventually(() => settled.length === 1, 'settled')
    await new Promise(resolve => setTimeout(resolve, 300))
    expect(sent).toEqual([])
    expect(settled).toEqual([[a.id, 'delivered']])
  })

  it('stop() aborts the stream and sends nothing more', async () => {
    const { sender, remotes, sent, opens } = harness()
    const a = entry(1)
    sender.enqueue(a)
    await eventually(() => remotes.length === 1, 'a stream')
    const remote = remotes[0] as Remote
    expect(await remote.read()).toBe(a.id)
    sender.stop()
    await expect(remote.read()).rejects.toThrow()
    sender.enqueue(entry(2))
    sender.wake()
    await new Promise(resolve => setTimeout(resolve, 300))
    expect(opens()).toBe(1)
    // Stopped before a's "sent" was due: nothing is recorded after stop().
    expect(sent).toEqual([])
    expect(sender.pending).toBe(2)
  })
})
