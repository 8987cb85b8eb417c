import { chmod, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { NodeNotRunningError } from '@kith/core'

/** Where a running daemon tells clients how to reach it. */
export const API_FILE = 'api.json'
/** The daemon's bearer token, mode 0600: whoever can read it may drive the node. */
export const TOKEN_FILE = 'api.token'

export interface ApiEndpoint {
  url: string
  token: string
}

export async function writeEndpoint (home: string, url: string, token: string): Promise<void> {
  const tokenPath = join(home, TOKEN_FILE)
  await writeFile(tokenPath, token + '\n', { mode: 0o600 })
  await chmod(tokenPath, 0o600)
  await writeFile(join(home, API_FILE), JSON.stringify({ url, pid: process.pid }, null, 2) + '\n', { mode: 0o600 })
}

export async function removeEndpoint (home: string): Promise<void> {
  await rm(join(home, API_FILE), { force: true })
}

/** @throws {NodeNotRunningError} when no daemon has written its endpoint in `home` */
export async function readEndpoint (home: string): Promise<ApiEndpoint> {
  try {
    const { url } = JSON.parse(await readFile(join(home, API_FILE), 'utf8'))
    const token = (await readFile(join(home, TOKEN_FILE), 'utf8')).trim()
    if (typeof url !== 'string' || token.length === 0) throw new Error('incomplete')
    return { url, token }
  } catch {
    throw new NodeNotRunningError(`no node is running for ${home} (start one with "kith start")`)
  }
}
