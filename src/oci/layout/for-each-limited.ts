/**
 * The one worker pool (Go's errgroup with SetLimit): runs `work` over `items` with at most `limit`
 * in flight, in order of start. The first failure stops new work from starting; the promise
 * rejects with it once the tasks in flight have settled, so none is left running unobserved.
 */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0
  let failed = false
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++
      try {
        await work(items[index] as T, index)
      } catch (error) {
        failed = true
        throw error
      }
    }
  }
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker)
  const results = await Promise.allSettled(workers)
  const rejection = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (rejection) throw rejection.reason
}
