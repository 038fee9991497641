import { SeededRandom } from './seeded-random.js'

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ren',
  'tu',
  'sa',
  'vel',
  'or',
  'dex',
  'pi',
  'qua',
  'ne',
  'zor',
  'ix',
  'bu',
]
const KEYWORDS = ['const', 'return', 'if', 'for', 'await', 'export', 'function', 'import', 'let', 'new']
const LEVELS = ['INFO ', 'INFO ', 'INFO ', 'DEBUG', 'WARN ', 'ERROR']
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE']

/** Source-like text: a vocabulary and line shapes that gzip about as well as real code does. */
export class SourceText {
  private readonly words: string[]

  constructor(private readonly random: SeededRandom) {
    this.words = Array.from({ length: 1500 }, () => {
      let word = ''
      for (let i = random.int(1, 4); i > 0; i--) word += random.pick(SYLLABLES)
      return word
    })
  }

  /** Exactly `length` bytes (ASCII only, so characters are bytes). */
  bytes(length: number): Buffer {
    const lines: string[] = []
    let size = 0
    while (size < length) {
      const indent = '  '.repeat(this.random.int(0, 4))
      let line = `${indent}${this.random.pick(KEYWORDS)} ${this.random.pick(this.words)}`
      for (let i = this.random.int(1, 9); i > 0; i--) line += ` ${this.random.pick(this.words)}`
      line += this.random.next() < 0.3 ? ` = ${this.random.int(0, 99999)}\n` : '\n'
      lines.push(line)
      size += line.length
    }
    return Buffer.from(lines.join('').slice(0, length), 'latin1')
  }
}

/** Build-log lines: timestamps, levels, request paths; repetitive, as real logs compress. */
export class LogText {
  private clock = Date.UTC(2026, 0, 1)

  constructor(private readonly random: SeededRandom) {}

  /** About `length` bytes of whole lines (at least one line). */
  chunk(length: number): string {
    const lines: string[] = []
    let size = 0
    while (size < length) {
      this.clock += this.random.int(0, 40)
      const r = this.random
      const line =
        `${new Date(this.clock).toISOString()} ${r.pick(LEVELS)} [worker-${r.int(0, 7)}] ` +
        `${r.pick(METHODS)} /api/v1/items/${r.int(1, 50000)} ${r.next() < 0.95 ? 200 : 500} ` +
        `${r.int(1, 900)}ms req=${r.int(0, 0xffffff).toString(16).padStart(6, '0')} user=u${r.int(1, 2000)}\n`
      lines.push(line)
      size += line.length
    }
    return lines.join('')
  }
}
