import { median } from './report.js'

/** Measurements by name across repeats: the report takes the median of times, the max of memory. */
export class Samples {
  private readonly values = new Map<string, number[]>()

  add(name: string, value: number | undefined): void {
    if (value === undefined) return
    const list = this.values.get(name) ?? []
    list.push(value)
    this.values.set(name, list)
  }

  median(name: string): number | undefined {
    const list = this.values.get(name)
    return list?.length ? median(list) : undefined
  }

  max(name: string): number | undefined {
    const list = this.values.get(name)
    return list?.length ? Math.max(...list) : undefined
  }

  /** Every value recorded under a name, in order (the spread between repeats). */
  all(name: string): number[] {
    return [...(this.values.get(name) ?? [])]
  }

  /** Names recorded under a prefix (`phase:push:`), for per-phase breakdowns. */
  names(prefix: string): string[] {
    return [...this.values.keys()].filter((name) => name.startsWith(prefix))
  }
}
