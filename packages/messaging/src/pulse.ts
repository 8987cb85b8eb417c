/** A wake-up signal: `wait()` resolves on the next `notify()` or after `ms`, whichever is first. */
export class Pulse {
  private waiters: Array<() => void> = []

  notify (): void {
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }

  async wait (ms: number): Promise<void> {
    await new Promise<void>(resolve => {
      const done = (): void => {
        clearTimeout(timer)
        this.waiters = this.waiters.filter(w => w !== done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.waiters.push(done)
    })
  }
}
