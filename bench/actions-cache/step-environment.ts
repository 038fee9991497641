import type { RegistryTarget } from '../registry-token.js'

/** A variable the benchmark sets for the step; a missing one ends the step with its name. */
export function required(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set`)
  return value
}

/** The registry and repository the step talks to, as BENCH_TARGET (JSON). */
export function benchTarget(): RegistryTarget {
  return JSON.parse(required('BENCH_TARGET')) as RegistryTarget
}
