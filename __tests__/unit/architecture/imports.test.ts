import { describe, expect, test } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

// The rooms of src/ as docs/ARCHITECTURE.md draws them, checked on the import lines themselves
// (type-only imports included: a cycle of types is still a cycle for the reader).

const src = path.resolve(import.meta.dirname, '../../../src')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return sources(full)
    return entry.name.endsWith('.ts') ? [full] : []
  })
}

/** Each file's relative imports, resolved to the .ts files they name. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of sources(src)) {
    const text = readFileSync(file, 'utf8')
    const targets = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'(\.{1,2}\/[^']+)'/g)].map(
      (m) => path.resolve(path.dirname(file), (m[1] as string).replace(/\.js$/, '.ts')),
    )
    graph.set(file, targets)
  }
  return graph
}

function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (file: string): string[] | undefined => {
    if (state.get(file) === 'done') return undefined
    if (state.get(file) === 'open') return [...stack.slice(stack.indexOf(file)), file]
    state.set(file, 'open')
    stack.push(file)
    for (const next of graph.get(file) ?? []) {
      const cycle = visit(next)
      if (cycle) return cycle
    }
    stack.pop()
    state.set(file, 'done')
    return undefined
  }
  for (const file of graph.keys()) {
    const cycle = visit(file)
    if (cycle) return cycle
  }
  return undefined
}

const relative = (file: string) => path.relative(src, file)

describe('imports in src/', () => {
  const graph = importGraph()

  test('the graph is read (a test over no files would pass for nothing)', () => {
    expect(graph.size).toBeGreaterThan(50)
    expect(graph.get(path.join(src, 'action/main.ts'))).toContain(path.join(src, 'action/push/push.ts'))
  })

  test('no import cycle', () => {
    expect(findCycle(graph)?.map(relative)).toBeUndefined()
  })

  test('no mode of src/action imports another mode', () => {
    const modes = ['push', 'pull', 'cache', 'prune']
    const crossings: string[] = []
    for (const [file, targets] of graph) {
      const from = relative(file).split(path.sep)
      if (from[0] !== 'action' || !modes.includes(from[1] as string)) continue
      for (const target of targets) {
        const to = relative(target).split(path.sep)
        if (to[0] === 'action' && modes.includes(to[1] as string) && to[1] !== from[1])
          crossings.push(`${relative(file)} -> ${relative(target)}`)
      }
    }
    expect(crossings).toEqual([])
  })
})
