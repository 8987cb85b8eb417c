import { describe, expect, it } from 'vitest'
import { buildProgram } from '../src/index.js'
import { formatMessage, historyItem } from '../src/output.js'
import type { MessageView } from '@kith/api'

const message: MessageView = {
  id: 'ab'.repeat(16), from: '12D3KooWAlice', fromName: 'me', contact: 'bob', text: 'hi', ts: Date.UTC(2026, 0, 1, 12, 3), status: 'delivered', seq: 4
}

describe('kith command tree', () => {
  it('has every command the contract names, with its options', () => {
    const program = buildProgram()
    const commands = Object.fromEntries(program.commands.map(c => [c.name(), c.options.map(o => o.long)]))
    expect(Object.keys(commands).sort()).toEqual(['accept', 'chat', 'contacts', 'device', 'devices', 'group', 'groups', 'history', 'init', 'invite', 'mailbox', 'read', 'save', 'send', 'send-file', 'start', 'status', 'stop', 'verify', 'watch'])
    const group = program.commands.find(c => c.name() === 'group')
    expect(Object.fromEntries(group?.commands.map(c => [c.name(), c.options.map(o => o.long)]) ?? [])).toEqual({ create: ['--json'], add: ['--json'], remove: ['--json'], promote: ['--json'], rename: ['--json'], leave: ['--json'] })
    expect(commands.groups).toContain('--json')
    expect(commands.init).toEqual(expect.arrayContaining(['--name', '--json', '--link', '--device-name']))
    const device = program.commands.find(c => c.name() === 'device')
    expect(Object.fromEntries(device?.commands.map(c => [c.name(), c.options.map(o => o.long)]) ?? [])).toEqual({ link: ['--json'], confirm: ['--json'], reject: ['--json'], revoke: ['--json'] })
    expect(commands.devices).toEqual(['--json'])
    expect(commands.start).toEqual(expect.arrayContaining(['--listen', '--bootstrap', '--no-mdns', '--relay', '--relay-max-reservations', '--relay-data-limit', '--relay-duration-limit', '--public', '--auto-download']))
    expect(commands['send-file']).toEqual(['--json'])
    expect(commands.save).toEqual(['--overwrite', '--json'])
    const mailbox = program.commands.find(c => c.name() === 'mailbox')
    expect(Object.fromEntries(mailbox?.commands.map(c => [c.name(), c.options.map(o => o.long)]) ?? [])).toEqual({ add: ['--json'], remove: ['--json'], list: ['--json'] })
    expect(commands.accept).toEqual(expect.arrayContaining(['--name', '--json']))
    expect(commands.history).toEqual(expect.arrayContaining(['--limit', '--before', '--json']))
    for (const name of ['status', 'invite', 'contacts', 'send', 'watch']) expect(commands[name], name).toContain('--json')
    expect(program.options.map(o => o.long)).toContain('--home')
  })

  it('collects repeated --listen and --bootstrap', () => {
    const program = buildProgram()
    const start = program.commands.find(c => c.name() === 'start')
    start?.action(() => {})
    program.parse(['node', 'kith', 'start', '--listen', '/ip4/127.0.0.1/tcp/1', '--listen', '/ip4/127.0.0.1/tcp/2', '--bootstrap', '/ip4/127.0.0.1/tcp/3', '--no-mdns'])
    expect(start?.opts()).toMatchObject({ listen: ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2'], bootstrap: ['/ip4/127.0.0.1/tcp/3'], mdns: false })
  })
})

describe('output', () => {
  it('history --json puts the contract fields first', () => {
    expect(Object.keys(historyItem(message)).slice(0, 5)).toEqual(['id', 'from', 'text', 'ts', 'status'])
    expect(historyItem(message)).toMatchObject({ id: message.id, from: message.from, text: 'hi', status: 'delivered' })
  })

  it('shows our own messages with their delivery mark, others without', () => {
    expect(formatMessage(message)).toMatch(/\] me: hi {2}✓✓$/)
    expect(formatMessage({ ...message, status: 'queued' })).toMatch(/\(queued\)$/)
    expect(formatMessage({ ...message, fromName: 'bob', status: 'received' })).toMatch(/\] bob: hi$/)
  })
})
