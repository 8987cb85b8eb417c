import { createInterface } from 'node:readline'

/** Read a line from the terminal without echoing it. */
async function askHidden (question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true })
  const output = rl as unknown as { _writeToOutput: (s: string) => void }
  let prompted = false
  output._writeToOutput = (s: string) => {
    // Show the question once, then nothing of what is typed.
    if (!prompted) { process.stdout.write(question); prompted = true }
  }
  try {
    return await new Promise<string>(resolve => rl.question(question, resolve))
  } finally {
    rl.close()
    process.stdout.write('\n')
  }
}

/**
 * The passphrase for a new home: `KITH_PASSPHRASE`, else asked on a terminal (empty for none),
 * else none. Without one, a key file (mode 0600) guards the data key instead.
 */
export async function passphraseForInit (wanted: boolean): Promise<string | undefined> {
  if (!wanted) return undefined
  const env = process.env.KITH_PASSPHRASE
  if (env != null && env !== '') return env
  if (process.stdin.isTTY !== true) return undefined
  const first = await askHidden('passphrase to protect your messages (empty for none: a key file will guard them): ')
  if (first === '') return undefined
  const again = await askHidden('the same passphrase again: ')
  if (again !== first) throw new Error('the passphrases differ; nothing was created')
  return first
}

/** The passphrase to open a protected home: `KITH_PASSPHRASE`, else asked on a terminal. */
export async function passphraseToOpen (needed: boolean): Promise<string | undefined> {
  if (!needed) return undefined
  const env = process.env.KITH_PASSPHRASE
  if (env != null && env !== '') return env
  if (process.stdin.isTTY !== true) return undefined
  return await askHidden('passphrase: ')
}
