import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { Daemon, kith, kithJson } from './helpers/cli.js'
import { eventually, tempDir } from './helpers/testnet.js'

// Three users, each a real `kith start` process, make a group through the CLI and talk in it.
describe('kith groups end to end (separate processes, real TCP, real LevelDB)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  const homes: Record<string, string> = {}
  const daemons: Record<string, Daemon> = {}
  const peerIds: Record<string, string> = {}
  const names = ['alice', 'bob', 'carol', 'dave'] as const

  beforeAll(async () => {
    dir = await tempDir('kith-e2e-groups-')
    for (const name of names) {
      homes[name] = join(dir.path, name)
      daemons[name] = new Daemon(homes[name])
    }
  })
  afterAll(async () => {
    for (const d of Object.values(daemons)) await d.kill9()
    await dir?.cleanup()
  })

  /** Stop all, then start all again, on the same ports (finding a contact at a new address is the DHT presence issue). */
  const restart = async (...who: string[]): Promise<void> => {
    const ports = await Promise.all(who.map(async name => await daemons[name]!.port()))
    for (const name of who) expect(await daemons[name]!.stop()).toBe(0)
    for (const [i, name] of who.entries()) await daemons[name]!.start(ports[i])
  }
  const texts = async (who: string): Promise<string[]> => (await kithJson(homes[who]!, ['history', 'Book club', '--limit', '100'])).map((m: { text: string }) => m.text).sort()

  it('alice creates a group, adds two contacts; everyone reads everyone', async () => {
    for (const name of ['alice', 'bob', 'carol']) {
      peerIds[name] = (await kithJson(homes[name]!, ['init', '--name', name])).peerId
      await daemons[name]!.start()
    }
    for (const friend of ['bob', 'carol']) {
      const { code } = await kithJson(homes.alice!, ['invite'])
      await kithJson(homes[friend]!, ['accept', code, '--name', 'alice'])
    }
    await eventually(async () => (await kithJson(homes.alice!, ['contacts'])).length === 2, 20_000, 'alice to know both')

    const created = await kithJson(homes.alice!, ['group', 'create', 'Book club'])
    expect(created).toEqual({ group: expect.stringMatching(/^[0-9a-f]{32}$/), name: 'Book club' })
    expect(await kithJson(homes.alice!, ['group', 'add', 'Book club', 'bob'])).toMatchObject({ group: created.group, name: 'Book club', members: 2, admin: true })
    expect(await kithJson(homes.alice!, ['group', 'add', created.group, 'carol'])).toMatchObject({ members: 3 })
    for (const name of ['bob', 'carol']) {
      await eventually(async () => {
        const groups = await kithJson(homes[name]!, ['groups'])
        return groups.length === 1 && groups[0].members === 3 ? groups : undefined
      }, 20_000, `${name} to see the group of three`)
      expect((await kithJson(homes[name]!, ['groups']))[0]).toEqual({ group: created.group, name: 'Book club', members: 3, epoch: 2, admin: false, state: 'member' })
    }

    const sent = await kithJson(homes.alice!, ['send', 'Book club', 'hello club'])
    expect(sent).toEqual({ id: expect.stringMatching(/^[0-9a-f]{32}$/), status: 'sent' })
    await kithJson(homes.bob!, ['send', 'Book club', 'hi from bob'])
    await kithJson(homes.carol!, ['send', 'Book club', 'and carol'])
    const all = ['and carol', 'hello club', 'hi from bob']
    for (const name of ['alice', 'bob', 'carol']) await eventually(async () => (await texts(name)).length === 3, 20_000, `${name} to read all three`)
    for (const name of ['alice', 'bob', 'carol']) expect(await texts(name)).toEqual(all)

    const atCarol = await kithJson(homes.carol!, ['history', 'Book club'])
    expect(atCarol.find((m: { text: string }) => m.text === 'hi from bob')).toMatchObject({ from: peerIds.bob, fromName: peerIds.bob, status: 'received' })
    expect(atCarol.find((m: { text: string }) => m.text === 'hello club')).toMatchObject({ from: peerIds.alice, fromName: 'alice' })
  })

  it('keeps the group and its history across a restart, and catches up on what was said meanwhile (from members that restarted too)', async () => {
    expect(await daemons.bob!.stop()).toBe(0)
    await kithJson(homes.alice!, ['send', 'Book club', 'while bob was out'])
    await eventually(async () => (await texts('carol')).includes('while bob was out'), 20_000, 'carol to read it')
    await restart('alice', 'carol') // so what bob missed must come from their stored history
    await daemons.bob!.start()
    expect((await texts('bob')).slice(0, 3)).toEqual(['and carol', 'hello club', 'hi from bob'])
    await eventually(async () => (await texts('bob')).includes('while bob was out'), 30_000, 'bob to catch up')
    expect((await kithJson(homes.bob!, ['groups']))[0]).toMatchObject({ name: 'Book club', members: 3 })
    // Sent once, whenever: by gossip if bob is on the topic again, else by catch-up when he is.
    await kithJson(homes.alice!, ['send', 'Book club', 'welcome back'])
    await eventually(async () => (await texts('bob')).includes('welcome back'), 30_000, 'bob to read after the restart')
  })

  it('an admin removes a member while it is offline: back online (after the others restarted), it learns it is out and reads nothing sent after', async () => {
    expect(await daemons.carol!.stop()).toBe(0)
    expect(await kithJson(homes.alice!, ['group', 'remove', 'Book club', 'carol'])).toMatchObject({ members: 2, state: 'member' })
    await kithJson(homes.alice!, ['send', 'Book club', 'said after carol was removed'])
    await eventually(async () => (await texts('bob')).includes('said after carol was removed'), 20_000, 'bob to read it')
    expect((await kithJson(homes.bob!, ['groups']))[0]).toMatchObject({ members: 2, state: 'member' })
    // Both restart before carol is back: what tells her she is out must survive that.
    await restart('alice', 'bob')

    await daemons.carol!.start()
    await eventually(async () => (await kithJson(homes.carol!, ['groups']))[0].state === 'removed', 30_000, 'carol to learn she was removed')
    await kithJson(homes.bob!, ['send', 'Book club', 'and after that'])
    await eventually(async () => (await texts('alice')).includes('and after that'), 20_000, 'alice to read bob')
    // Carol keeps what she had, gets nothing newer, and can't post.
    expect(await texts('carol')).toEqual(['and carol', 'hello club', 'hi from bob', 'welcome back', 'while bob was out'])
    const refused = await kith(homes.carol!, ['send', 'Book club', 'let me in'])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toBe('kith: you were removed from this group\n')
    expect(await texts('alice')).not.toContain('let me in')
    const notAdmin = await kith(homes.bob!, ['group', 'remove', 'Book club', 'alice'])
    expect(notAdmin.stderr).toBe('kith: only admins may remove members\n')
  })

  it('kith chat works on a group; an admin renames it; a promoted admin leaves and the other admin commits it', async () => {
    const chat = await kith(homes.bob!, ['chat', 'Book club'], 'typed in chat\n')
    expect(chat).toMatchObject({ code: 0, stderr: '' })
    expect(chat.stdout).toContain('chat with Book club (group, 2 members)')
    expect(chat.stdout).toContain('and after that')
    await eventually(async () => (await texts('alice')).includes('typed in chat'), 20_000, 'alice to read the chat line')

    expect(await kithJson(homes.alice!, ['group', 'rename', 'Book club', 'Reading club'])).toMatchObject({ name: 'Reading club' })
    await eventually(async () => (await kithJson(homes.bob!, ['groups']))[0].name === 'Reading club', 20_000, 'bob to see the new name')
    expect(await kithJson(homes.alice!, ['group', 'rename', 'Reading club', 'Book club'])).toMatchObject({ name: 'Book club' })
    await eventually(async () => (await kithJson(homes.bob!, ['groups']))[0].name === 'Book club', 20_000, 'bob to see the old name again')
    expect((await kith(homes.bob!, ['group', 'rename', 'Book club', 'Bob club'])).stderr).toBe('kith: only admins may rename the group\n')
    expect(await kithJson(homes.alice!, ['group', 'promote', 'Book club', 'bob'])).toMatchObject({ admin: true })
    await eventually(async () => (await kithJson(homes.bob!, ['groups']))[0].admin === true, 20_000, 'bob to be an admin')
    expect(await kithJson(homes.bob!, ['group', 'leave', 'Book club'])).toMatchObject({ state: 'leaving' })
    await eventually(async () => (await kithJson(homes.bob!, ['groups']))[0].state === 'left', 30_000, 'bob to be out')
    expect((await kithJson(homes.bob!, ['groups']))[0]).toMatchObject({ admin: false, state: 'left' })
    await eventually(async () => (await kithJson(homes.alice!, ['groups']))[0].members === 1, 20_000, 'alice to see bob gone')
    // Still out after a restart.
    expect(await daemons.bob!.stop()).toBe(0)
    await daemons.bob!.start()
    expect((await kithJson(homes.bob!, ['groups']))[0]).toMatchObject({ state: 'left' })
  })

  it('adds a contact who is offline: back online, it joins and reads what was said since, nothing from before', async () => {
    peerIds.dave = (await kithJson(homes.dave!, ['init', '--name', 'dave'])).peerId
    await daemons.dave!.start()
    const { code } = await kithJson(homes.alice!, ['invite'])
    await kithJson(homes.dave!, ['accept', code, '--name', 'alice'])
    // Dave's key package travels to alice with his introduction, over the E2EE channel.
    await eventually(async () => (await kithJson(homes.alice!, ['contacts'])).some((c: { name: string, groupReady: boolean }) => c.name === 'dave' && c.groupReady), 20_000, "alice to hold dave's key package")
    expect(await daemons.dave!.stop()).toBe(0)

    await kithJson(homes.alice!, ['send', 'Book club', 'before dave'])
    expect(await kithJson(homes.alice!, ['group', 'add', 'Book club', 'dave'])).toMatchObject({ members: 2 })
    await kithJson(homes.alice!, ['send', 'Book club', 'for dave, sent while he was away'])
    await daemons.dave!.start()
    await eventually(async () => (await kithJson(homes.dave!, ['groups']))[0]?.state === 'member', 30_000, 'dave to join')
    await eventually(async () => (await texts('dave')).includes('for dave, sent while he was away'), 30_000, 'dave to catch up')
    expect(await texts('dave')).toEqual(['for dave, sent while he was away'])
    await kithJson(homes.dave!, ['send', 'Book club', 'thanks, alice'])
    await eventually(async () => (await texts('alice')).includes('thanks, alice'), 20_000, 'alice to read dave')
  })

  it('refuses unknown groups and bad input by name', async () => {
    const result = await kith(homes.alice!, ['send', 'No such group', 'x'])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/^kith: no contact/)
    const empty = await kith(homes.alice!, ['group', 'create', '   '])
    expect(empty.code).not.toBe(0)
    expect(empty.stderr).toMatch(/^kith: a group name is 1 to 64 bytes/)
  })
}, 120_000)
