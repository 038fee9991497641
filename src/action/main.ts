import * as core from '@actions/core'

/** The main step: reads inputs, runs the mode, turns any error into one failed-step line. */
export async function run(): Promise<void> {
  try {
    const mode = core.getInput('mode') || 'push'
    core.info(`oci-artifact-action: mode ${mode}`)
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error))
  }
}

/** The post step: only cache mode has work here (saving the cache). */
export async function runPost(): Promise<void> {
  try {
    // filled in by cache mode
  } catch (error) {
    core.warning(error instanceof Error ? error.message : String(error))
  }
}
