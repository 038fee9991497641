import type { Inputs } from './inputs.js'

/** The main step in cache mode: restore (placeholder until cache mode lands). */
export async function restoreCacheStep(_inputs: Inputs): Promise<void> {
  throw new Error('cache mode is not implemented yet')
}

/** The post step in cache mode: save (placeholder until cache mode lands). */
export async function saveCacheStep(): Promise<void> {}
