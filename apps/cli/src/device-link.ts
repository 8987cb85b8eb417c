import { createInterface } from 'node:readline'
import type { KithClient } from '@kith/api'
import type { LinkRequestView } from '@kith/node'
import { safeText } from './safe-text.js'

/**
 * `kith device link` on a terminal: make a code (and show it as a QR code), wait for a device to
 * redeem it, show its comparison code and ask the user whether the new device shows the same;
 * only "y" links it. Resolves true when a device was linked.
 */
export async function linkInteractively (c: KithClient): Promise<boolean> {
  const requests: LinkRequestView[] = []
  let wake = (): void => {}
  let stopped = false
  const unsubscribe = await c.events(event => {
    if (event.type === 'device-link-request') { requests.push(event.device); wake() }
  }, () => { stopped = true; wake() })
  try {
    const { code, expires } = await c.linkDevice()
    if (process.stdout.isTTY === true) {
      const { toString } = await import('qrcode')
      process.stdout.write(await toString(code, { type: 'terminal', small: true }))
    }
    process.stdout.write(`${code}\non the new device run: kith init --link CODE   (works once, until ${new Date(expires).toLocaleTimeString()})\nwaiting for it…\n`)
    const request = await new Promise<LinkRequestView | undefined>(resolve => {
      const timer = setTimeout(() => { resolve(undefined) }, Math.max(0, expires - Date.now()))
      wake = () => { clearTimeout(timer); resolve(requests.shift()) }
    })
    if (stopped) throw new Error('the node stopped')
    if (request == null) {
      process.stdout.write('the code expired before a device used it: nothing was linked\n')
      return false
    }
    const who = `${request.name !== '' ? safeText(request.name) : 'a device'} (${safeText(request.device)})`
    const answer = await ask(`${who} asks to join your account.\nDoes the new device show ${safeText(request.comparison)}? [y/N] `, request.expires)
    if (answer != null && /^y(es)?$/i.test(answer)) {
      const linked = await c.confirmLink(request.comparison)
      process.stdout.write(`linked ${linked.name !== '' ? safeText(linked.name) : 'a device'} (${safeText(linked.device)})\ncomparison code: ${safeText(linked.comparison)}\n`)
      return true
    }
    // The node refuses by itself once the time is up; say no now so the new device hears it at once.
    await c.rejectLink(request.comparison).catch(() => {})
    process.stdout.write(answer == null
      ? 'no answer in time: the device was not linked (make a new code with "kith device link")\n'
      : 'not linked: the codes must match. If you did not start this, someone saw your link code: make a new one only when you link a device\n')
    return false
  } finally {
    unsubscribe()
  }
}

/** Write `question` and read one line from stdin; undefined at end of input or once `until` passes. */
async function ask (question: string, until: number): Promise<string | undefined> {
  process.stdout.write(question)
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false })
  try {
    return await new Promise(resolve => {
      const timer = setTimeout(() => { process.stdout.write('\n'); resolve(undefined) }, Math.max(0, until - Date.now()))
      rl.once('line', line => { clearTimeout(timer); resolve(line.trim()) })
      rl.once('close', () => { clearTimeout(timer); resolve(undefined) })
    })
  } finally {
    rl.close()
  }
}
