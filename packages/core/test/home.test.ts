import { afterEach, describe, expect, it } from 'vitest'
import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { resolveHome } from '@kith/core'

const saved = process.env.KITH_HOME
afterEach(() => {
  if (saved == null) delete process.env.KITH_HOME
  else process.env.KITH_HOME = saved
})

describe('resolveHome', () => {
  it('prefers the explicit folder, made absolute', () => {
    process.env.KITH_HOME = '/tmp/from-env'
    expect(resolveHome('some/dir')).toBe(resolve(process.cwd(), 'some/dir'))
    expect(isAbsolute(resolveHome('some/dir'))).toBe(true)
  })

  it('falls back to $KITH_HOME, then ~/.kith', () => {
    process.env.KITH_HOME = '/tmp/from-env'
    expect(resolveHome()).toBe('/tmp/from-env')
    delete process.env.KITH_HOME
    expect(resolveHome()).toBe(join(homedir(), '.kith'))
  })
})
