/**
 * A one-line progress bar on standard error, drawn only on a terminal (scripts and log files
 * get nothing), redrawn at most 10 times a second.
 */
export class ProgressBar {
  private last = 0
  private drawn = false
  private readonly started = Date.now()
  private readonly tty = process.stderr.isTTY === true

  constructor (private readonly label: string) {}

  update (done: number, total: number, phase = this.label): void {
    if (!this.tty) return
    const now = Date.now()
    if (now - this.last < 100 && done < total) return
    this.last = now
    const width = 24
    const fraction = total > 0 ? Math.min(1, done / total) : 1
    const filled = Math.round(fraction * width)
    const seconds = Math.max((now - this.started) / 1000, 0.001)
    const line = `${phase} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${Math.floor(fraction * 100)}% ${formatBytes(done)} / ${formatBytes(total)}  ${formatBytes(done / seconds)}/s`
    process.stderr.write(`\r\x1b[2K${line}`)
    this.drawn = true
  }

  /** Clear the bar (before printing the result). */
  done (): void {
    if (this.drawn) process.stderr.write('\r\x1b[2K')
    this.drawn = false
  }
}

/** `512 B`, `1.5 MB`, `2.0 GB` (powers of 1000, as disks and networks count). */
export function formatBytes (bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit++ }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit] as string}`
}
