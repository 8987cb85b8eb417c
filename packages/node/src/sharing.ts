import { stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { DiskFullError, FileExistsError, InvalidMessageError, UnknownFileError, fromHex } from '@kith/core'
import { prepareFile, safeFileName, uniquePath } from '@kith/files'
import type { FileRef, Files, FilesEvents } from '@kith/files'
import type { GroupService } from '@kith/groups'
import type { Messaging } from '@kith/messaging'
import { contactDevices, fileOfferOf } from '@kith/store'
import type { KithStore, MessageFile, MessageRecord } from '@kith/store'
import type { Libp2pEvents, Logger, PeerId, TypedEventTarget } from '@libp2p/interface'
import type { MessagingEvents } from '@kith/messaging'

/** Where a file in history stands on this device. */
export type FileState = 'available' | 'downloading' | 'complete' | 'failed'

/** A file in a message, as users see it. */
export interface FileView {
  name: string
  size: number
  /** The file's address: the Merkle tree hash over its encrypted chunks, hex. */
  hash: string
  /** Media type; may be empty. */
  type: string
  state: FileState
  /** Verified bytes held on this device. */
  received: number
  /** With state `failed`: why the last download stopped (it resumes from where it was). */
  error?: string
}

/** Progress of a file operation, for `kith watch` and progress bars. */
export interface FileProgress {
  /** The file's hash (empty while a file to send is still being prepared). */
  hash: string
  /** `preparing` a file to send, `downloading` one, `saving` one to a path. */
  phase: 'preparing' | 'downloading' | 'saving'
  /** Bytes done (plaintext bytes prepared or saved, verified bytes downloaded). */
  done: number
  total: number
  /** The caller's operation id, when it gave one (to tell its own progress from others'). */
  op?: string
}

/** What a finished save wrote. */
export interface SavedFile { path: string, size: number, hash: string }

export interface FileSharingInit {
  files: Files
  store: KithStore
  messaging: Messaging
  groups: GroupService
  self: string
  /** Our other devices now (revoked ones are not in the list): they may fetch every file we share. */
  ownDevices: () => string[]
  log: Logger
  /** Files up to this many bytes are downloaded as soon as they arrive (0: never). */
  autoDownloadBytes: number
  progress: (event: FileProgress) => void
}

/** Where a file was shared: only those conversations' members may fetch it from us. */
const SHARED = 'fileshare/'
/** Downloads someone asked for (a save, or automatic): resumed when the node starts. */
const WANTED = 'filewant/'
/** Downloads at once; more wait their turn. */
const CONCURRENT_DOWNLOADS = 3

/**
 * Files in conversations: sending (prepare, then an ordinary E2EE message with the file's key),
 * downloading (automatically up to a size, or on request; resumed across restarts), saving to
 * a path, and deciding who may fetch what from us.
 */
export class FileSharing {
  private readonly init: FileSharingInit
  private readonly running = new Map<string, Promise<void>>()
  private readonly errors = new Map<string, string>()
  private readonly controller = new AbortController()
  private active = 0
  private readonly waiting: Array<() => void> = []
  private readonly onMessage = (evt: CustomEvent<MessageRecord>): void => {
    const record = evt.detail
    if (record.file == null || record.from === this.init.self) return
    void this.remember(record).then(async () => {
      if (record.file != null && record.file.size <= this.init.autoDownloadBytes) await this.download(record)
    }).catch(err => { this.init.log('automatic download of %s stopped: %s', record.file?.hash, err?.message) })
  }

  constructor (init: FileSharingInit) {
    this.init = init
  }

  /** Listen for files that arrive, and resume the downloads that were under way. */
  async start (events: TypedEventTarget<Pick<MessagingEvents, 'message'>>, network: TypedEventTarget<Libp2pEvents>): Promise<void> {
    events.addEventListener('message', this.onMessage)
    network.addEventListener('peer:connect', this.onConnect)
    await this.resumeWanted()
  }

  stop (events: TypedEventTarget<Pick<MessagingEvents, 'message'>>, network: TypedEventTarget<Libp2pEvents>): void {
    events.removeEventListener('message', this.onMessage)
    network.removeEventListener('peer:connect', this.onConnect)
    this.controller.abort()
  }

  /** Someone came online: downloads that wait for it (it had the file, and was offline) go on. */
  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail.toString()
    void this.resumeWanted(async record => (await this.sources(record)).includes(peer)).catch(() => {})
  }

  /** Start again the downloads someone asked for that are not running (those `which` picks). */
  private async resumeWanted (which: (record: MessageRecord) => boolean | Promise<boolean> = () => true): Promise<void> {
    for (const [, { message }] of await this.init.store.listSecrets<{ message: string }>(WANTED)) {
      const record = await this.init.store.getMessage(message)
      if (record?.file == null || this.running.has(record.file.hash) || !await which(record)) continue
      void this.download(record).catch(err => { this.init.log('download of %s stopped: %s', record.file?.hash, err?.message) })
    }
  }

  /**
   * Send a file to a contact (peer id) or a group (id): encrypt it into our file store, allow
   * the conversation's members to fetch it, and send the offer end to end.
   */
  async send (to: { peer: string } | { group: string }, path: string, op?: string): Promise<MessageRecord> {
    const info = await stat(path).catch(() => undefined)
    if (info == null || !info.isFile()) throw new InvalidMessageError(`${path} is not a file that can be read`)
    const name = safeFileName(basename(path))
    const ref = await prepareFile(this.init.files.store, path, { signal: this.controller.signal, onProgress: this.reporter('', 'preparing', op) })
    const conversation = 'peer' in to ? to.peer : to.group
    await this.share(ref.root, conversation)
    const offer = { root: fromHex(ref.root), key: new Uint8Array(ref.key), size: ref.size, name, type: mediaTypeOf(name) }
    return 'peer' in to ? await this.init.messaging.sendFile(to.peer, offer) : await this.init.groups.sendFile(to.group, offer)
  }

  /** The file a message carries, as it stands here. @throws {UnknownFileError} */
  async view (record: MessageRecord): Promise<FileView> {
    const file = record.file
    if (file == null) throw new UnknownFileError(`message ${record.id} holds no file`)
    const held = await this.init.files.store.get(file.hash)
    const error = this.errors.get(file.hash)
    const state: FileState = held?.complete === true ? 'complete' : this.running.has(file.hash) ? 'downloading' : error != null ? 'failed' : 'available'
    return { name: file.name, size: file.size, hash: file.hash, type: file.type, state, received: held?.complete === true ? file.size : held?.verifiedBytes ?? 0, ...(state === 'failed' && error != null ? { error } : {}) }
  }

  /**
   * Download the file a message carries (or resume it), then decrypt it to `dest`: a folder
   * (the file keeps its sanitised name, made unique) or a file path.
   *
   * @throws {UnknownFileError | FileExistsError | DiskFullError | FileUnavailableError | FileCorruptError}
   */
  async save (record: MessageRecord, dest: string, options: { overwrite?: boolean, op?: string } = {}): Promise<SavedFile> {
    const file = record.file
    if (file == null) throw new UnknownFileError(`message ${record.id} holds no file`)
    await this.remember(record)
    const target = await this.target(file, dest, options.overwrite === true)
    await this.download(record, options.op)
    await this.init.files.store.export(refOf(file), target, {
      overwrite: options.overwrite === true,
      signal: this.controller.signal,
      onProgress: this.reporter(file.hash, 'saving', options.op)
    })
    return { path: target, size: file.size, hash: file.hash }
  }

  /** Download a message's file unless it is here already (one download per file at a time). */
  async download (record: MessageRecord, op?: string): Promise<void> {
    const file = record.file
    if (file == null) throw new UnknownFileError(`message ${record.id} holds no file`)
    if ((await this.init.files.store.get(file.hash))?.complete === true) return
    const running = this.running.get(file.hash)
    if (running != null) return await running
    const download = this.fetch(record, file, op)
    this.running.set(file.hash, download)
    try {
      await download
    } finally {
      this.running.delete(file.hash)
    }
  }

  /**
   * May `peer` fetch this file from us? Only a device of a conversation it was shared in, as the
   * conversation is now: one of our own devices, a current device of the contact (its latest
   * signed list; revoked devices never), or a current member of the group.
   */
  async authorize (peer: string, root: string): Promise<boolean> {
    const shared = await this.init.store.getSecret<{ conversations: string[] }>(SHARED + root)
    if (shared == null || shared.conversations.length === 0) return false
    if (this.init.ownDevices().includes(peer)) return true
    for (const conversation of shared.conversations) {
      if ((await this.devicesOf(conversation)).includes(peer)) return true
    }
    return false
  }

  /**
   * The devices of a conversation now: a group's members, or a contact's current devices (a
   * contact we no longer have has none). A group is looked up by id only: a group someone named
   * after a contact's peer id must not stand for the contact.
   */
  private async devicesOf (conversation: string): Promise<string[]> {
    if (this.init.groups.nameOf(conversation) !== undefined) return this.init.groups.members(conversation)
    const contact = await this.init.store.getContact(conversation)
    if (contact == null) return []
    const revoked = new Set(contact.revoked ?? [])
    return contactDevices(contact).filter(device => !revoked.has(device))
  }

  private async fetch (record: MessageRecord, file: MessageFile, op?: string): Promise<void> {
    await this.init.store.commit([this.init.store.putSecret(WANTED + file.hash, { message: record.id })])
    this.errors.delete(file.hash)
    const onProgress = (evt: FilesEvents['progress']): void => {
      if (evt.detail.root === file.hash) this.init.progress({ hash: file.hash, phase: 'downloading', done: evt.detail.verifiedBytes, total: evt.detail.size, ...(op != null ? { op } : {}) })
    }
    await this.turn()
    this.init.files.addEventListener('progress', onProgress)
    try {
      await this.init.files.fetch(refOf(file), async () => await this.sources(record), { signal: this.controller.signal })
      await this.init.store.commit([this.init.store.delSecret(WANTED + file.hash)])
    } catch (err: any) {
      this.errors.set(file.hash, err instanceof DiskFullError ? `disk full: ${err.message}` : err?.message ?? String(err))
      throw err
    } finally {
      this.init.files.removeEventListener('progress', onProgress)
      this.active--
      this.waiting.shift()?.()
    }
  }

  /** Progress of one operation, reported at most 4 times a second, and at the end. */
  private reporter (hash: string, phase: FileProgress['phase'], op?: string): (done: number, total: number) => void {
    let last = 0
    return (done, total) => {
      const now = Date.now()
      if (done < total && now - last < 250) return
      last = now
      this.init.progress({ hash, phase, done, total, ...(op != null ? { op } : {}) })
    }
  }

  /** Wait for a download slot. */
  private async turn (): Promise<void> {
    if (this.active >= CONCURRENT_DOWNLOADS) await new Promise<void>(resolve => this.waiting.push(resolve))
    this.active++
  }

  /**
   * Who may have a message's file: its sender first, then the conversation's other devices (a
   * group's members; a contact's devices and our own, which hold what the conversation holds).
   */
  private async sources (record: MessageRecord): Promise<string[]> {
    const others = [...await this.devicesOf(record.conversation), ...this.init.ownDevices()]
    return [...new Set([record.from, ...others])].filter(peer => peer !== this.init.self)
  }

  /** Record that a file came in a conversation, so its members may fetch it from us too. */
  private async remember (record: MessageRecord): Promise<void> {
    if (record.file != null) await this.share(record.file.hash, record.conversation)
  }

  private async share (root: string, conversation: string): Promise<void> {
    const shared = await this.init.store.getSecret<{ conversations: string[] }>(SHARED + root)
    if (shared?.conversations.includes(conversation) === true) return
    await this.init.store.commit([this.init.store.putSecret(SHARED + root, { conversations: [...shared?.conversations ?? [], conversation] })])
  }

  /** The path a save writes to: in a folder, the sanitised name made unique; else the path itself. */
  private async target (file: MessageFile, dest: string, overwrite: boolean): Promise<string> {
    const info = await stat(dest).catch(() => undefined)
    if (info?.isDirectory() === true) return await uniquePath(dest, safeFileName(file.name))
    if (info != null && !overwrite) throw new FileExistsError(`${dest} exists (use --overwrite to replace it)`)
    const parent = await stat(dirname(dest)).catch(() => undefined)
    if (parent?.isDirectory() !== true) throw new InvalidMessageError(`no folder ${dirname(dest)} to save into`)
    return join(dirname(dest), basename(dest))
  }
}

/** Common media types by file extension, so receivers know a photo from a document. */
const MEDIA_TYPES: Record<string, string> = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp', heic: 'image/heic', svg: 'image/svg+xml',
  mp4: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm', mkv: 'video/x-matroska',
  mp3: 'audio/mpeg', m4a: 'audio/mp4', ogg: 'audio/ogg', opus: 'audio/opus', wav: 'audio/wav', flac: 'audio/flac',
  pdf: 'application/pdf', zip: 'application/zip', txt: 'text/plain', md: 'text/markdown', csv: 'text/csv', json: 'application/json',
  doc: 'application/msword', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', odt: 'application/vnd.oasis.opendocument.text'
}

/** A file's media type from its extension; empty when unknown. */
export function mediaTypeOf (name: string): string {
  const dot = name.lastIndexOf('.')
  return dot > 0 ? MEDIA_TYPES[name.slice(dot + 1).toLowerCase()] ?? '' : ''
}

function refOf (file: MessageFile): FileRef {
  const offer = fileOfferOf(file)
  return { root: file.hash, key: offer.key, size: file.size }
}
