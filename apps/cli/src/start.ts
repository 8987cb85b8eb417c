import { passphraseToOpen } from './passphrase.js'
import { safeText } from './safe-text.js'
import type { KithNode, MailboxOptions, RelayOptions } from '@kith/node'

export interface StartOptions {
  listen?: string[]
  bootstrap?: string[]
  mdns: boolean
  apiPort?: number
  /** Relay connections and hold mail for contacts, with these limits. */
  relay?: RelayOptions
  /** Mailbox quotas (with `relay`). */
  mailbox?: MailboxOptions
  /** This node is publicly reachable at its listen addresses. */
  public?: boolean
  /** Download files up to this many bytes on arrival. */
  autoDownloadBytes?: number
}

/**
 * `kith start`: run the node and the local API in the foreground until SIGINT or SIGTERM (or
 * `kith stop`), then stop gracefully. Prints who and where we are, and one line per event —
 * never message text: this output often ends up in log files.
 */
export async function runDaemon (home: string, options: StartOptions): Promise<void> {
  // Loaded here, not at the top: client commands must not pay for loading libp2p.
  const { createKithNode, needsPassphrase } = await import('@kith/node')
  const { startApiServer } = await import('@kith/api')

  const passphrase = await passphraseToOpen(await needsPassphrase(home).catch(() => false))
  const node: KithNode = await createKithNode({
    home,
    ...(passphrase != null ? { passphrase } : {}),
    ...(options.listen != null ? { listen: options.listen } : {}),
    ...(options.bootstrap != null ? { bootstrap: options.bootstrap } : {}),
    mdns: options.mdns,
    ...(options.relay != null ? { relay: options.relay } : {}),
    ...(options.mailbox != null ? { mailbox: options.mailbox } : {}),
    ...(options.public === true ? { public: true } : {}),
    ...(options.autoDownloadBytes != null ? { autoDownloadBytes: options.autoDownloadBytes } : {})
  })

  let stopping: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      log('stopping…')
      await api.close().catch(() => {})
      await node.stop()
      log('stopped')
    })()
    await stopping
    process.exit(0)
  }

  let api: Awaited<ReturnType<typeof startApiServer>>
  try {
    api = await startApiServer(node, { home, ...(options.apiPort != null ? { port: options.apiPort } : {}), onShutdown: () => { void stop() } })
  } catch (err) {
    await node.stop()
    throw err
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping != null) process.exit(130) // a second Ctrl-C: stop now
      void stop()
    })
  }

  const status = node.status()
  log(`kith node ${status.peerId} (${safeText(status.name)})`)
  for (const addr of status.addresses) log(`  listening on ${safeText(addr)}`)
  if (options.relay != null) log('  relaying for contacts and holding their mail (--relay)')
  log(`  local API on ${api.url} (token in ${home}/api.token)`)
  log(`  ${(await node.contacts()).length} contacts, ${status.pending} messages waiting to be delivered`)
  log('press Ctrl-C to stop')

  // Names (and errors that may quote them) come from contacts and other devices: made safe, so
  // none can forge a log line or act on the terminal.
  node.addEventListener('contact', evt => { log(`new contact: ${safeText(evt.detail.name)} (${evt.detail.peerId})`) })
  node.addEventListener('device:linked', evt => { log(`new device linked: ${safeText(evt.detail.name)} (${evt.detail.device}), comparison code ${safeText(evt.detail.comparison)}`) })
  node.addEventListener('history:progress', evt => {
    const { peer, fetched, total, done, error } = evt.detail
    if (done && error != null) log(`history sync with ${safeText(peer)} stopped: ${safeText(error)}`)
    else if (done && fetched > 0) log(`history: ${fetched} messages from ${peer}`)
    else if (!done && total >= 1000) log(`history: ${fetched} / ${total} messages from ${peer}`)
  })
  node.addEventListener('message', evt => {
    void node.store.getContact(evt.detail.conversation).then(c => { log(`message from ${safeText(c?.name ?? evt.detail.from)}`) })
  })
  await new Promise(() => {}) // until a signal
}

function log (line: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`)
}
