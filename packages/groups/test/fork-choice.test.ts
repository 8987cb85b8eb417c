import { describe, expect, it } from 'vitest'
import { choose } from '../src/fork-choice.js'
import type { Branch } from '../src/fork-choice.js'

/** A branch: its first commit `id` by `by` (device `by`, user `by`-user) at `rank`, `length` long, removing and demoting whom it says. */
function branch (id: string, by: string, rank: number, length = 1, removes: string[] = [], demotes: string[] = []): Branch {
  return { id, rank, length, committer: { device: by, identity: `${by}-user` }, removes: new Set(removes), demotes: new Set(demotes) }
}

// Alice, bob and carol are admins; in the tables bob is the senior (rank 0) unless said otherwise.
const table: Array<{ rule: string, branches: Branch[], wins: string | undefined }> = [
  { rule: 'none: no winner', branches: [], wins: undefined },
  { rule: 'one: it', branches: [branch('a1', 'alice', 1)], wins: 'a1' },
  { rule: 'same length: the lower rank', branches: [branch('a1', 'alice', 1), branch('b1', 'bob', 0)], wins: 'b1' },
  { rule: 'same length and rank: the lower id', branches: [branch('b2', 'bob', 0), branch('b1', 'bob', 0)], wins: 'b1' },
  {
    rule: 'a stale commit for an old epoch loses to the chain that moved on, whatever its rank',
    branches: [branch('a1', 'alice', 1, 3), branch('b1', 'bob', 0, 1)],
    wins: 'a1'
  },
  {
    rule: 'a removed admin\'s commit is out, though it ranks first',
    branches: [branch('a1', 'alice', 1, 1, ['bob']), branch('b1', 'bob', 0, 1)],
    wins: 'a1'
  },
  {
    rule: 'and out though its branch is longer (a private chain built from the old state)',
    branches: [branch('a1', 'alice', 1, 1, ['bob']), branch('b1', 'bob', 0, 9)],
    wins: 'a1'
  },
  {
    rule: 'removed further along the competing chain counts too',
    branches: [branch('c1', 'carol', 2, 2, ['bob']), branch('b1', 'bob', 0, 1)],
    wins: 'c1'
  },
  {
    rule: 'a demoted admin\'s commit is out',
    branches: [branch('a1', 'alice', 1, 1, [], ['bob-user']), branch('b1', 'bob', 0, 1)],
    wins: 'a1'
  },
  {
    rule: 'even when the same admin made both: the branch that removes it later stands',
    branches: [branch('b2', 'bob', 0, 2, ['bob']), branch('b1', 'bob', 0, 1)],
    wins: 'b2'
  },
  {
    rule: 'two admins removing each other at once: the senior stays',
    branches: [branch('a1', 'alice', 1, 1, ['bob']), branch('b1', 'bob', 0, 1, ['alice'])],
    wins: 'b1'
  },
  {
    rule: 'and the senior stays though the junior\'s branch is longer',
    branches: [branch('a1', 'alice', 1, 5, ['bob']), branch('b1', 'bob', 0, 1, ['alice'])],
    wins: 'b1'
  },
  {
    rule: 'a third admin, revoked by nobody, stands beside them; length decides',
    branches: [branch('a1', 'alice', 1, 1, ['bob']), branch('b1', 'bob', 0, 1), branch('c1', 'carol', 2, 2)],
    wins: 'c1'
  }
]

describe('fork choice', () => {
  for (const { rule, branches, wins } of table) {
    it(rule, () => {
      expect(choose(branches)?.id).toBe(wins)
      // Whatever order the commits arrived in.
      expect(choose([...branches].reverse())?.id).toBe(wins)
    })
  }

  it('every order of the same branches gives the same winner', () => {
    const branches = [branch('a1', 'alice', 1, 2, ['dave']), branch('b1', 'bob', 0, 2), branch('c1', 'carol', 2, 1, ['alice']), branch('b0', 'bob', 0, 2)]
    const permutations = (list: Branch[]): Branch[][] => list.length <= 1 ? [list] : list.flatMap((x, i) => permutations([...list.slice(0, i), ...list.slice(i + 1)]).map(p => [x, ...p]))
    const winners = new Set(permutations(branches).map(p => choose(p)?.id))
    expect([...winners]).toEqual(['b0'])
  })
})
