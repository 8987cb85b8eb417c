import { describe, expect, it } from 'vitest'
import { MemoryLevel } from 'memory-level'
import { GroupCommit } from '../src/group-commit.js'
import type { Db } from '../src/group-commit.js'

/** A database that records the options of every batch it is given. */
function recording (): { db: Db, options: unknown[] } {
  const db = new MemoryLevel<string, any>() as unknown as Db
  const options: unknown[] = []
  const batch = db.batch.bind(db) as (ops: any, opts?: any) => Promise<void>
  ;(db as any).batch = async (ops: any, opts?: any) => { options.push(opts); await batch(ops, opts) }
  return { db, options }
}

describe('group commit', () => {
  it('asks the database to fsync every batch before its callers go on (acks and sends wait on it)', async () => {
    const { db, options } = recording()
    await db.open()
    const writer = new GroupCommit(db)
    await Promise.all([writer.commit([{ type: 'put', key: 'a', value: 1 }]), writer.commit([{ type: 'put', key: 'b', value: 2 }])])
    expect(options.length).toBeGreaterThan(0)
    for (const o of options) expect(o).toMatchObject({ sync: true })
  })

  it('leaves writes to the OS when told to (the benchmark\'s before)', async () => {
    const { db, options } = recording()
    await db.open()
    await new GroupCommit(db, false).commit([{ type: 'put', key: 'a', value: 1 }])
    expect(options).toEqual([{ sync: false }])
  })
})
