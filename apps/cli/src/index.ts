/**
 * @packageDocumentation
 *
 * The `kith` command. `init` and `start` work on the home folder directly; every other command
 * is a client of the running node's local API.
 */
import { createInterface } from 'node:readline'
import { userInfo } from 'node:os'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { KithClient } from '@kith/api'
import type { FileProgress } from '@kith/node'
import { resolveHome } from '@kith/core'
import { runChat } from './chat.js'
import { runDaemon } from './start.js'
import { passphraseForInit } from './passphrase.js'
import { formatMessage, historyItem, plural, printJson } from './output.js'
import { ProgressBar, formatBytes } from './progress.js'
import { safeText } from './safe-text.js'
import { linkInteractively } from './device-link.js'
import { randomBytes } from 'node:crypto'
import { resolve as resolvePath } from 'node:path'

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

function positiveInt (value: string): number {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('not a whole number')
  return n
}

/** A part of a whole: 1/8, 0.125 or 12.5%; more than 0, at most 1. */
function share (value: string): number {
  const v = value.trim()
  const match = /^(\d+(?:\.\d+)?)\s*(?:\/\s*(\d+(?:\.\d+)?)|(%))?$/.exec(v)
  const n = match == null ? NaN : Number(match[1]) / (match[2] != null ? Number(match[2]) : match[3] != null ? 100 : 1)
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError('not a share between 0 and 1 (examples: 1/8, 0.125, 12.5%)')
  return n
}

/** A size such as 50MB, 1.5GB, 4096 (bytes). */
function byteSize (value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?$/i.exec(value.trim())
  if (match == null) throw new InvalidArgumentError('not a size (examples: 4096, 64KB, 50MB, 2GB)')
  const unit = (match[2] ?? 'B').toUpperCase()
  const factor = ({ B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3 } as Record<string, number>)[unit] ?? 1
  return Math.round(Number(match[1]) * factor)
}

/** Build the command tree. Exported for tests. */
export function buildProgram (): Command {
  const program = new Command('kith')
    .description('Kith: a messenger with no servers')
    .option('--home <dir>', 'home folder (default: $KITH_HOME or ~/.kith)')
    .showHelpAfterError('(run "kith --help" for usage)')

  const home = (): string => resolveHome(program.opts().home)
  const client = async (): Promise<KithClient> => await KithClient.fromHome(home())

  program.command('init')
    .description('create a new identity in the home folder, or join one of your devices with --link')
    .option('--name <name>', 'your display name', defaultName())
    .option('--link <code>', 'join your existing account: a code from "kith device link" on the device holding your identity')
    .option('--device-name <name>', 'with --link: what your other devices call this one (default: the host name)')
    .addOption(new Option('--history <days>', 'with --link: fetch only the last DAYS days of history from your other devices (default: all of it)').argParser(positiveInt))
    .option('--no-passphrase', 'no passphrase: a key file (mode 0600) guards the data instead')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const { initHome, linkHome } = await import('@kith/node')
      const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
      const passphrase = await passphraseForInit(opts.passphrase !== false)
      if (opts.link != null) {
        const linked = await linkHome(home(), opts.link, {
          // The identity device waits for its user to confirm this code: nothing is linked before that.
          onComparison: (comparison) => {
            const confirm = `comparison code: ${comparison}\nconfirm on the device holding your identity that it shows the same code (kith device link asks there; or: kith device confirm ${comparison.replace(' ', '')})\nwaiting…\n`
            if (opts.json === true) process.stderr.write(confirm)
            else process.stdout.write(confirm)
          },
          ...(passphrase != null ? { passphrase } : {}),
          ...(opts.deviceName != null ? { deviceName: opts.deviceName } : {}),
          ...(opts.history != null ? { historySince: Date.now() - opts.history * 86_400_000 } : {})
        })
        if (opts.json === true) { printJson({ peerId: linked.device, name: linked.name, comparison: linked.comparison, contacts: linked.contacts }); return }
        process.stdout.write(`linked this device (${linked.device}) to ${linked.name}'s account, with ${plural(linked.contacts, 'contact')}\n`)
        process.stdout.write('next: kith start (your history then comes from your other devices; kith watch shows the progress)\n')
        return
      }
      const identity = await initHome(home(), opts.name, passphrase != null ? { passphrase } : {})
      const peerId = peerIdFromPrivateKey(identity.privateKey).toString()
      if (opts.json === true) printJson({ peerId, name: identity.name })
      else process.stdout.write(`created ${identity.name} (${peerId}) in ${home()}\nnext: kith start\n`)
    })

  program.command('start')
    .description('run the node in the foreground until Ctrl-C')
    .option('--listen <multiaddr>', 'address to listen on (repeatable)', collect)
    .option('--bootstrap <multiaddr>', 'bootstrap peer (repeatable)', collect)
    .option('--no-mdns', 'do not discover peers on the local network')
    .addOption(new Option('--api-port <port>', 'port of the local API on 127.0.0.1 (default: any free port)').argParser(positiveInt))
    .option('--relay', 'relay connections for your contacts and hold their mail while they are offline')
    .addOption(new Option('--relay-max-reservations <n>', 'contacts that may hold a relay reservation at once (default 32)').argParser(positiveInt))
    .addOption(new Option('--relay-data-limit <size>', 'bytes one relayed connection may carry, e.g. 256MB (default 256MB)').argParser(byteSize))
    .addOption(new Option('--relay-duration-limit <seconds>', 'how long one relayed connection may last (default 1800)').argParser(positiveInt))
    .addOption(new Option('--relay-reservations-per-contact <n>', 'relay reservations the linked devices of one contact may hold at once (default 4)').argParser(positiveInt))
    .addOption(new Option('--relay-stranger-circuits <n>', 'connections strangers may hold through the relay to your contacts at once, in all (default 32)').argParser(positiveInt))
    .addOption(new Option('--relay-stranger-circuits-per-source <n>', 'the same, from one IP address or IPv6 /64 (default 4)').argParser(positiveInt))
    .addOption(new Option('--mailbox-quota <n>', 'envelopes held for each contact (default 10000)').argParser(positiveInt))
    .addOption(new Option('--mailbox-sender-quota <n>', 'envelopes held from any one sender (default 10000)').argParser(positiveInt))
    .addOption(new Option('--mailbox-depositor-share <share>', 'part of one contact\'s mailbox any one sender may fill, e.g. 1/8 (default 1/8)').argParser(share))
    .addOption(new Option('--mailbox-strangers-share <share>', 'part of one contact\'s mailbox all senders who are not your contacts may fill together (default 1/2)').argParser(share))
    .addOption(new Option('--mailbox-ttl <days>', 'days mail is held before it is dropped (default 14)').argParser(positiveInt))
    .option('--public', 'this node is reachable at its listen addresses (a server or a forwarded port): hold no relay reservations')
    .addOption(new Option('--auto-download <size>', 'download files up to this size as soon as they arrive, e.g. 50MB; 0 for never (default 25MB)').argParser(byteSize))
    .action(async (opts) => {
      const relayFlags = ['relayMaxReservations', 'relayDataLimit', 'relayDurationLimit', 'relayReservationsPerContact', 'relayStrangerCircuits', 'relayStrangerCircuitsPerSource', 'mailboxQuota', 'mailboxSenderQuota', 'mailboxDepositorShare', 'mailboxStrangersShare', 'mailboxTtl'].filter(k => opts[k] != null)
      if (opts.relay !== true && relayFlags.length > 0) throw new InvalidArgumentError('--relay-* and --mailbox-* options need --relay')
      await runDaemon(home(), {
        listen: opts.listen,
        bootstrap: opts.bootstrap,
        mdns: opts.mdns,
        apiPort: opts.apiPort,
        public: opts.public === true,
        ...(opts.autoDownload != null ? { autoDownloadBytes: opts.autoDownload } : {}),
        ...(opts.relay === true
          ? {
              relay: {
                ...(opts.relayMaxReservations != null ? { maxReservations: opts.relayMaxReservations } : {}),
                ...(opts.relayDataLimit != null ? { dataLimitBytes: opts.relayDataLimit } : {}),
                ...(opts.relayDurationLimit != null ? { durationLimitMs: opts.relayDurationLimit * 1000 } : {}),
                ...(opts.relayReservationsPerContact != null ? { reservationsPerContact: opts.relayReservationsPerContact } : {}),
                ...(opts.relayStrangerCircuits != null ? { strangerCircuits: opts.relayStrangerCircuits } : {}),
                ...(opts.relayStrangerCircuitsPerSource != null ? { strangerCircuitsPerSource: opts.relayStrangerCircuitsPerSource } : {})
              },
              mailbox: {
                ...(opts.mailboxQuota != null ? { perRecipient: { envelopes: opts.mailboxQuota } } : {}),
                ...(opts.mailboxSenderQuota != null ? { perDepositor: { envelopes: opts.mailboxSenderQuota } } : {}),
                ...(opts.mailboxDepositorShare != null ? { depositorShare: opts.mailboxDepositorShare } : {}),
                ...(opts.mailboxStrangersShare != null ? { strangersShare: opts.mailboxStrangersShare } : {}),
                ...(opts.mailboxTtl != null ? { ttlMs: opts.mailboxTtl * 24 * 3600_000 } : {})
              }
            }
          : {})
      })
    })

  program.command('stop')
    .description('stop the running node')
    .action(async () => { await (await client()).shutdown() })

  program.command('status')
    .description('show the running node: peer id, addresses, connections')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const s = await (await client()).status()
      if (opts.json === true) { printJson(s); return }
      const n = s.network
      process.stdout.write(`${safeText(s.name)} ${s.peerId}\nreachability: ${n.reachability}${n.relays.length > 0 ? ` (through ${plural(n.relays.length, 'relay')})` : ''}\nconnections: ${s.connections}\nwaiting to be delivered: ${s.pending}${n.waitingInMailboxes > 0 ? ` (${n.waitingInMailboxes} held at mailboxes)` : ''}\n`)
      if (n.holding != null) process.stdout.write(`holding mail for friends: ${plural(n.holding.envelopes, 'envelope')} for ${plural(n.holding.recipients, 'contact')}\n`)
      // Addresses others observed us at can be among them: a multiaddr's DNS part is free text.
      for (const a of s.addresses) process.stdout.write(`  ${safeText(a)}\n`)
    })

  const mailbox = program.command('mailbox').description('choose which friends hold your mail while you are offline')
  const printMailboxes = (list: Awaited<ReturnType<KithClient['mailboxes']>>, json: boolean): void => {
    if (json) { printJson(list); return }
    if (list.length === 0) process.stdout.write('no mailboxes: kith mailbox add CONTACT (a friend who runs kith start --relay)\n')
    for (const m of list) process.stdout.write(`${m.online ? '●' : '○'} ${safeText(m.name)}  ${m.peerId}\n`)
  }
  mailbox.command('add')
    .description('ask a contact (running with --relay) to hold your mail; it must be online')
    .argument('<contact>', 'contact name or peer id')
    .option('--json', 'print JSON')
    .action(async (contact: string, opts) => { printMailboxes(await (await client()).addMailbox(contact), opts.json === true) })
  mailbox.command('remove')
    .description('stop using a contact as your mailbox (what it holds is fetched first)')
    .argument('<contact>', 'contact name or peer id')
    .option('--json', 'print JSON')
    .action(async (contact: string, opts) => { printMailboxes(await (await client()).removeMailbox(contact), opts.json === true) })
  mailbox.command('list')
    .description('list the contacts that hold your mail')
    .option('--json', 'print JSON')
    .action(async (opts) => { printMailboxes(await (await client()).mailboxes(), opts.json === true) })

  const device = program.command('device').description("link and remove this account's devices")
  device.command('link')
    .description('let a new device join this account: shows a code, then asks you to compare the codes both screens show (run on the device holding your identity)')
    .option('--json', 'print the code as JSON and return at once (then confirm the device with "kith device confirm")')
    .action(async (opts) => {
      const c = await client()
      // Scripts: the code now, and later "kith device confirm COMPARISON" (see kith watch: device-link-request).
      if (opts.json === true) { const { code } = await c.linkDevice(); printJson({ code }); return }
      if (!await linkInteractively(c)) process.exitCode = 1
    })

  device.command('confirm')
    .description('link the new device that shows this comparison code (check its screen first; run on the device holding your identity)')
    .argument('<comparison...>', 'the six digits both screens show, e.g. 123456 or "123 456"')
    .option('--json', 'print JSON: the device linked')
    .action(async (comparison: string[], opts) => {
      const linked = await (await client()).confirmLink(comparison.join(''))
      if (opts.json === true) printJson(linked)
      else process.stdout.write(`linked ${linked.name !== '' ? safeText(linked.name) : 'a device'} (${safeText(linked.device)})\n`)
    })

  device.command('reject')
    .description('refuse the new device waiting with this comparison code: it is not linked, and its link code is spent')
    .argument('<comparison...>', 'the six digits the identity device shows for it')
    .option('--json', 'print JSON: the device refused')
    .action(async (comparison: string[], opts) => {
      const refused = await (await client()).rejectLink(comparison.join(''))
      if (opts.json === true) printJson(refused)
      else process.stdout.write(`not linked: ${refused.name !== '' ? safeText(refused.name) : 'the device'} (${safeText(refused.device)})\n`)
    })

  device.command('revoke')
    .description('remove a device from this account: it reads nothing sent afterwards (run on the device holding your identity)')
    .argument('<device>', 'its peer id or name (see kith devices)')
    .option('--json', 'print JSON: the devices left')
    .action(async (target: string, opts) => {
      const left = await (await client()).revokeDevice(target)
      if (opts.json === true) printJson(left)
      else process.stdout.write(`revoked ${safeText(target)}; ${plural(left.length, 'device')} left\n`)
    })

  program.command('devices')
    .description("list this account's devices")
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const devices = await (await client()).devices()
      if (opts.json === true) { printJson(devices); return }
      for (const d of devices) {
        const seen = d.self ? 'this device' : d.lastSeen != null ? `last seen ${new Date(d.lastSeen).toLocaleString()}` : 'not seen yet'
        process.stdout.write(`${d.name !== '' ? safeText(d.name) : '(unnamed)'}  ${d.device}  ${seen}${d.identityDevice ? '  (holds the identity key)' : ''}\n`)
      }
    })

  program.command('invite')
    .description('print an invite code for a friend')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const { code } = await (await client()).invite()
      if (opts.json === true) printJson({ code })
      else process.stdout.write(`${code}\n(send this to your friend; they run: kith accept CODE --name YOUR_NAME)\n`)
    })

  program.command('accept')
    .description("accept a friend's invite code")
    .argument('<code>', 'the invite code')
    .requiredOption('--name <alias>', 'what to call this contact')
    .option('--json', 'print JSON')
    .action(async (code: string, opts) => {
      const result = await (await client()).accept(code, opts.name)
      if (opts.json === true) printJson(result)
      else process.stdout.write(`added ${safeText(result.contact)} (${result.peerId})\n`)
    })

  program.command('contacts')
    .description('list contacts')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const contacts = await (await client()).contacts()
      if (opts.json === true) { printJson(contacts); return }
      if (contacts.length === 0) process.stdout.write('no contacts yet: kith invite, or kith accept CODE --name ALIAS\n')
      for (const c of contacts) process.stdout.write(`${c.online ? '●' : '○'} ${safeText(c.name)}  ${c.peerId}${c.unread > 0 ? `  (${c.unread} unread)` : ''}\n`)
    })

  program.command('read')
    .description('mark a conversation read (on all your devices); kith chat does this as you read')
    .argument('<contact>', 'contact name or peer id, or group id or name')
    .option('--json', 'print JSON')
    .action(async (contact: string, opts) => {
      const read = await (await client()).markRead(contact)
      if (opts.json === true) printJson(read)
      else process.stdout.write(`read up to ${read.upTo > 0 ? new Date(read.upTo).toLocaleString() : 'the start'}\n`)
    })

  program.command('send')
    .description('send a message (TEXT "-" sends each line of standard input)')
    .argument('<contact>', 'contact name or peer id, or group id or name')
    .argument('<text>', 'the message, or - for standard input')
    .option('--json', 'print JSON')
    .action(async (contact: string, text: string, opts) => {
      const c = await client()
      const report = (m: Awaited<ReturnType<KithClient['send']>>): void => {
        if (opts.json === true) printJson({ id: m.id, status: m.status })
        else process.stdout.write(`${m.id} ${m.status}\n`)
      }
      if (text !== '-') { report(await c.send(contact, text)); return }
      for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
        if (line.trim().length > 0) report(await c.send(contact, line))
      }
    })

  program.command('send-file')
    .description('send a file of any size to a contact or a group (end-to-end encrypted; they fetch it from you)')
    .argument('<contact>', 'contact name or peer id, or group id or name')
    .argument('<path>', 'the file')
    .option('--json', 'print JSON')
    .action(async (contact: string, path: string, opts) => {
      const c = await client()
      const sent = await withProgress(c, 'encrypting', () => false, async (op) => await c.sendFile(contact, resolvePath(path), op))
      if (opts.json === true) printJson({ id: sent.id, hash: sent.hash, size: sent.size })
      else process.stdout.write(`${sent.id} ${safeText(sent.message.file?.name ?? path)} (${formatBytes(sent.size)}) ${sent.message.status}\n`)
    })

  program.command('save')
    .description("save a message's file (downloading or resuming it first)")
    .argument('<message>', 'the message id (see kith history)')
    .argument('<path>', 'a folder (the file keeps its name) or a file path')
    .option('--overwrite', 'replace the file at PATH if there is one')
    .option('--json', 'print JSON')
    .action(async (id: string, path: string, opts) => {
      const c = await client()
      // Its download may be under way already (automatic, or another save): show that one's progress too.
      const { hash } = await c.file(id)
      const saved = await withProgress(c, 'downloading', progress => progress.hash === hash, async (op) => await c.saveFile(id, resolvePath(path), { overwrite: opts.overwrite === true, op }))
      if (opts.json === true) printJson(saved)
      else process.stdout.write(`saved ${formatBytes(saved.size)} to ${safeText(saved.path)}\n`)
    })

  const group = program.command('group').description('create groups, add and remove members, leave')
  group.command('create')
    .description('create a group with you as its admin')
    .argument('<name>', 'the group name')
    .option('--json', 'print JSON')
    .action(async (name: string, opts) => {
      const created = await (await client()).createGroup(name)
      if (opts.json === true) printJson(created)
      else process.stdout.write(`created ${safeText(created.name)} (${created.group})\n`)
    })
  group.command('add')
    .description('add a contact to a group (admins only; an offline contact joins when back)')
    .argument('<group>', 'group id or name')
    .argument('<contact>', 'contact name or peer id')
    .option('--json', 'print JSON')
    .action(async (groupName: string, contact: string, opts) => {
      const view = await (await client()).addToGroup(groupName, contact)
      if (opts.json === true) printJson(view)
      else process.stdout.write(`${safeText(view.name)}: ${plural(view.members, 'member')}\n`)
    })
  group.command('remove')
    .description('remove a member from a group (admins only); it reads nothing sent afterwards')
    .argument('<group>', 'group id or name')
    .argument('<contact>', 'contact name or peer id')
    .option('--json', 'print JSON')
    .action(async (groupName: string, contact: string, opts) => {
      const view = await (await client()).removeFromGroup(groupName, contact)
      if (opts.json === true) printJson(view)
      else process.stdout.write(`${safeText(view.name)}: ${plural(view.members, 'member')}\n`)
    })
  group.command('promote')
    .description('make a member an admin (admins only)')
    .argument('<group>', 'group id or name')
    .argument('<contact>', 'contact name or peer id')
    .option('--json', 'print JSON')
    .action(async (groupName: string, contact: string, opts) => {
      const view = await (await client()).promoteInGroup(groupName, contact)
      if (opts.json === true) printJson(view)
      else process.stdout.write(`${safeText(contact)} is now an admin of ${safeText(view.name)}\n`)
    })
  group.command('rename')
    .description('rename a group (admins only)')
    .argument('<group>', 'group id or name')
    .argument('<name>', 'the new name')
    .option('--json', 'print JSON')
    .action(async (groupName: string, name: string, opts) => {
      const view = await (await client()).renameGroup(groupName, name)
      if (opts.json === true) printJson(view)
      else process.stdout.write(`renamed to ${safeText(view.name)}\n`)
    })
  group.command('leave')
    .description('leave a group (an admin commits it when one is online; you keep the history)')
    .argument('<group>', 'group id or name')
    .option('--json', 'print JSON')
    .action(async (groupName: string, opts) => {
      const view = await (await client()).leaveGroup(groupName)
      if (opts.json === true) printJson(view)
      else process.stdout.write(view.state === 'left' ? `you left ${safeText(view.name)}\n` : `leaving ${safeText(view.name)}: waiting for an admin to confirm\n`)
    })

  program.command('groups')
    .description('list your groups')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const groups = await (await client()).groups()
      if (opts.json === true) { printJson(groups); return }
      if (groups.length === 0) process.stdout.write('no groups yet: kith group create NAME\n')
      for (const g of groups) process.stdout.write(`${safeText(g.name)}  ${g.group}  ${plural(g.members, 'member')}${g.admin ? ' (admin)' : ''}${g.state !== 'member' ? ` (${g.state})` : ''}\n`)
    })

  program.command('verify')
    .description('show the safety number you and a contact compare to be sure no one is in the middle')
    .argument('<contact>', 'contact name or peer id')
    .option('--mark', 'record that you compared it and it matched')
    .option('--accept', "accept the contact's new identity key (after comparing the new safety number)")
    .option('--json', 'print JSON')
    .action(async (contact: string, opts) => {
      if (opts.mark === true && opts.accept === true) throw new InvalidArgumentError('use --accept first, then compare, then --mark')
      const v = await (await client()).verify(contact, opts.mark === true ? 'mark' : opts.accept === true ? 'accept' : undefined)
      if (opts.json === true) { printJson(v); return }
      const who = safeText(v.contact)
      if (v.identityChanged) {
        process.stdout.write(`!!! ${who}'s IDENTITY KEY CHANGED. Sending to ${who} is paused.\n`)
        process.stdout.write(`!!! Compare the new safety number with ${who} over a channel you trust, then run: kith verify ${who} --accept\n`)
        process.stdout.write(`new safety number:\n  ${v.newSafetyNumber ?? ''}\n`)
        return
      }
      process.stdout.write(`safety number with ${who}:\n  ${v.safetyNumber}\n`)
      process.stdout.write(v.verified ? 'marked as verified\n' : `compare it with ${who}; if it matches: kith verify ${who} --mark\n`)
    })

  program.command('history')
    .description('show a conversation, oldest first')
    .argument('<contact>', 'contact name or peer id, or group id or name')
    .addOption(new Option('--limit <n>', 'how many of the latest messages').argParser(positiveInt).default(50))
    .addOption(new Option('--before <seq>', 'only messages before this position (paging)').argParser(positiveInt))
    .option('--json', 'print JSON')
    .action(async (contact: string, opts) => {
      const messages = await (await client()).history(contact, { limit: opts.limit, ...(opts.before != null ? { before: opts.before } : {}) })
      if (opts.json === true) { printJson(messages.map(historyItem)); return }
      for (const m of messages) process.stdout.write(formatMessage(m) + '\n')
    })

  program.command('watch')
    .description('print events (messages, delivery, contacts) until stopped')
    .option('--json', 'one JSON line per event')
    .action(async (opts) => {
      await new Promise<void>((resolve, reject) => {
        void client().then(async c => await c.events(event => {
          if (opts.json === true) { printJson(event); return }
          // Names, texts, hashes and errors here can come from contacts: each is made safe.
          if (event.type === 'contact') process.stdout.write(`new contact: ${safeText(event.contact.name)}\n`)
          else if (event.type === 'identity-changed') process.stdout.write(`!!! ${safeText(event.contact.name)}'s identity key changed: kith verify ${safeText(event.contact.name)}\n`)
          else if (event.type === 'message') process.stdout.write(formatMessage(event.message) + '\n')
          else if (event.type === 'file-progress') process.stdout.write(`${safeText(event.progress.hash.slice(0, 12)) || 'file'} ${event.progress.phase} ${formatBytes(event.progress.done)} / ${formatBytes(event.progress.total)}\n`)
          else if (event.type === 'history-progress') process.stdout.write(historyLine(event.progress) + '\n')
          else if (event.type === 'device-linked') process.stdout.write(`new device linked: ${safeText(event.device.name)} (${safeText(event.device.device)}), comparison code ${safeText(event.device.comparison)}\n`)
          else if (event.type === 'device-link-request') process.stdout.write(`a device asks to join: ${safeText(event.device.name)} (${safeText(event.device.device)}); if it shows ${safeText(event.device.comparison)}: kith device confirm ${safeText(event.device.comparison.replace(' ', ''))}\n`)
          else if (event.type === 'device-link-refused') process.stdout.write(`device not linked (${event.device.reason}): ${safeText(event.device.name)} (${safeText(event.device.device)})\n`)
          else process.stdout.write(`${safeText(event.message.id)} ${event.message.status}\n`)
        }, () => { reject(new Error('the node stopped')) })).catch(reject)
      })
    })

  program.command('chat')
    .description('chat with a contact or in a group, in the terminal')
    .argument('<contact>', 'contact name or peer id, or group id or name')
    .action(async (contact: string) => { await runChat(await client(), contact) })

  return program
}

/**
 * Run a long file operation under a fresh operation id, drawing a progress bar (on a terminal)
 * from the daemon's progress events for that id, and those `also` picks.
 */
async function withProgress<T> (c: KithClient, label: string, also: (progress: FileProgress) => boolean, run: (op: string) => Promise<T>): Promise<T> {
  const op = randomBytes(8).toString('hex')
  const bar = new ProgressBar(label)
  const unsubscribe = process.stderr.isTTY === true
    ? await c.events(event => {
      if (event.type === 'file-progress' && (event.progress.op === op || also(event.progress))) bar.update(event.progress.done, event.progress.total, event.progress.phase)
    })
    : () => {}
  try {
    return await run(op)
  } finally {
    unsubscribe()
    bar.done()
  }
}

/** One line about a history sync, for `kith watch`. */
function historyLine (p: { peer: string, fetched: number, total: number, done: boolean, error?: string }): string {
  const from = `history from ${safeText(p.peer.slice(-8))}`
  if (!p.done) return `${from}: ${p.fetched} / ${p.total}`
  return p.error != null ? `${from} stopped: ${safeText(p.error)}` : `${from}: ${p.fetched} messages fetched`
}

function defaultName (): string {
  try { return userInfo().username } catch { return 'kith user' }
}

/**
 * Run the CLI. Errors print one line (`kith: …`) and exit 1: never a stack trace
 * (set KITH_DEBUG=1 to see one).
 */
export async function main (argv: string[]): Promise<void> {
  const program = buildProgram().exitOverride()
  try {
    await program.parseAsync(argv)
  } catch (err: any) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 1)
    if (process.env.KITH_DEBUG != null) console.error(err)
    // An error can quote a name or a file name a contact chose: one safe line.
    process.stderr.write(`kith: ${safeText(String(err?.message ?? err))}\n`)
    process.exit(1)
  }
}
