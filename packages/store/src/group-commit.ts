import { SUPERSEDED_BY_LATER } from './table.js'
import type { AbstractBatchOperation, AbstractBatchOptions, AbstractLevel } from 'abstract-level'

/** Any abstract-level database with string keys: classic-level on disk, memory-level in tests. */
export type Db = AbstractLevel<any, string, any>
export type Op = AbstractBatchOperation<Db, string, any>

interface Waiter { resolve: () => void, reject: (err: unknown) => void }

/** Drop `putLatest` writes that a later one for the same key in this batch replaces. */
function withoutSuperseded (ops: Op[]): Op[] {
  const seen = new Set<string>()
  const kept: Op[] = []
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i] as Op & { [SUPERSEDED_BY_LATER]?: string }
    const key = op[SUPERSEDED_BY_LATER]
    if (key != null) {
      if (seen.has(key)) continue
      seen.add(key)
    }
    kept.push(op)
  }
  return kept.reverse()
}

/**
 * Group commit: state changes that arrive while a batch is being written go out together in
 * the next one. Each change's operations always land in the same atomic batch, so a change is
 * still all-or-nothing; a caller's promise resolves once its batch is written. Under load this
 * turns thousands of small LevelDB writes into a few large ones; when idle, a change is written
 * at once.
 */
export class GroupCommit {
  private readonly db: Db
  private readonly batchOptions: AbstractBatchOptions<string, any> & { sync: boolean }
  private pending: Op[] = []
  private waiters: Waiter[] = []
  private writing: Promise<void> | undefined

  /**
   * @param sync - each batch is on the disk (fsync) before its callers hear it is written, so
   * what was acknowledged survives a power cut, not only a crash; group commit spreads that
   * cost over every change in the batch
   */
  constructor (db: Db, sync = true) {
    this.db = db
    // classic-level's own batch option (abstract-level's types do not name it; memory-level ignores it).
    this.batchOptions = { sync }
  }

  /** Write `ops` atomically (with whatever else is queued); resolves once they are written. */
  async commit (ops: Op[]): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.pending.push(...ops)
      this.waiters.push({ resolve, reject })
      this.writing ??= this.flush()
    })
  }

  /** Resolves once nothing is queued or being written. */
  async drain (): Promise<void> {
    while (this.writing != null) await this.writing
  }

  private async flush (): Promise<void> {
    // Let changes started in the same tick join this batch.
    await Promise.resolve()
    while (this.pending.length > 0) {
      const ops = this.pending
      const waiters = this.waiters
      this.pending = []
      this.waiters = []
      try {
        await this.db.batch(withoutSuperseded(ops), this.batchOptions)
        for (const w of waiters) w.resolve()
      } catch (err) {
        for (const w of waiters) w.reject(err)
      }
    }
    this.writing = undefined
  }
}
