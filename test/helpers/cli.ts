import { spawn, execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'

/** The real `kith` executable, as `npx kith` runs it. */
export const KITH_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'apps', 'cli', 'bin', 'kith.js')

export interface CliResult { code: number, stdout: string, stderr: string }

/** Run `kith --home HOME ...args` to completion (killed after `timeoutMs`, which then fails loudly). */
export async function kith (home: string, args: string[], input?: string, env: Record<string, string> = {}, timeoutMs = 30_000): Promise<CliResult> {
  return await new Promise((resolve) => {
    const child = execFile(process.execPath, [KITH_BIN, '--home', home, ...args], { timeout: timeoutMs, env: { ...process.env, ...env } }, (err: any, stdout, stderr) => {
      const killed = err?.killed === true ? `kith ${args.join(' ')} was killed after ${timeoutMs} ms\n` : ''
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : 1), stdout, stderr: killed + stderr })
    })
    if (input != null) child.stdin?.end(input)
  })
}

/** Run a command that must succeed and print JSON; return the parsed JSON. */
export async function kithJson<T = any> (home: string, args: string[], input?: string, timeoutMs?: number): Promise<T> {
  const result = await kith(home, [...args, '--json'], input, {}, timeoutMs)
  if (result.code !== 0) throw new Error(`kith ${args.join(' ')} failed (${result.code}): ${result.stderr}`)
  return JSON.parse(result.stdout)
}

/** A `kith start` process. */
export class Daemon {
  child?: ChildProcess
  output = ''
  constructor (readonly home: string) {}

  /** Start (with extra `kith start` options) and wait until its API answers. */
  async start (port = 0, env: Record<string, string> = {}, args: string[] = []): Promise<void> {
    this.child = spawn(process.execPath, [KITH_BIN, '--home', this.home, 'start', '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--no-mdns', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
    this.child.stdout?.on('data', d => { this.output += String(d) })
    this.child.stderr?.on('data', d => { this.output += String(d) })
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      if (this.child.exitCode != null) throw new Error(`kith start exited ${this.child.exitCode}: ${this.output}`)
      if (existsSync(join(this.home, 'api.json')) && (await kith(this.home, ['status'])).code === 0) return
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    throw new Error(`kith start did not come up: ${this.output}`)
  }

  /** The TCP port it listens on. */
  async port (): Promise<number> {
    const status = await kithJson(this.home, ['status'])
    return Number(String(status.addresses[0]).split('/')[4])
  }

  /** kill -9: no chance to clean up. */
  async kill9 (): Promise<void> {
    const child = this.child
    if (child == null || child.exitCode != null || child.signalCode != null) return
    const exited = new Promise(resolve => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  /** SIGTERM; resolves with the exit code. */
  async stop (): Promise<number | null> {
    const child = this.child
    if (child == null || child.exitCode != null || child.signalCode != null) return child?.exitCode ?? null
    const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
    child.kill('SIGTERM')
    return await exited
  }
}
