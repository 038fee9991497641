// Preloaded (--import) into the Windows Node that run-windows.ts starts under Wine: two Wine 8
// gaps, neither a Windows behaviour, worked around before the action's code runs.
import fs from 'node:fs'
import net from 'node:net'

// Wine lacks setsockopt(IPPROTO_TCP, TCP_KEEPALIVE): libuv applies a keepalive asked for before
// connect() at connect time, and undici's connect then fails with UNKNOWN. Real Windows has it.
// Asked for once connected instead, where libuv ignores that error (SO_KEEPALIVE is still set).
const setKeepAlive = net.Socket.prototype.setKeepAlive
net.Socket.prototype.setKeepAlive = function (enable, initialDelay) {
  if (this.connecting) {
    this.once('connect', () => setKeepAlive.call(this, enable, initialDelay))
    return this
  }
  return setKeepAlive.call(this, enable, initialDelay)
}

// Wine drops variables whose names are not identifiers (INPUT_IF-NO-FILES-FOUND, STATE_x-y) and
// sets USERPROFILE and TEMP from its own prefix: a runner's values travel in this file instead.
const file = process.env.WINE_RUNNER_ENV
if (file) {
  Object.assign(process.env, JSON.parse(fs.readFileSync(file, 'utf8')))
  delete process.env.WINE_RUNNER_ENV
}
