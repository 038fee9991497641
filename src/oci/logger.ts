// The library logs through this small interface so it never imports @actions/core: src/action/
// implements it once for the runner, a CLI could implement it with console, tests use silentLogger.
export interface Logger {
  debug(message: string): void
  info(message: string): void
  warning(message: string): void
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warning() {},
}
