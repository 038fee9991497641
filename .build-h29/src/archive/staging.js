import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
// Staging folders sit next to their destination as `<dest>.partial-<pid>-<random>`: the pid says
// which process owns one, so a later pull can tell a folder a killed pull left behind (its process
// is gone) from one a pull still running is filling (never touched). Folders of the earlier naming
// (`<dest>.partial-<random>`, no owner) are swept once they are a day old: no pull runs that long.
const OWNED = /^\.partial-(\d+)-[0-9a-f]{8}$/;
const UNOWNED = /^\.partial-[0-9a-f]{8}$/;
const UNOWNED_STALE_MS = 24 * 60 * 60 * 1000;
// What this process is staging now, for removeLiveStaging() on SIGINT/SIGTERM.
const live = new Set();
// Not mkdtemp: its 0700 would become dest's mode when the staging folder is renamed into place;
// mkdir's default mode gets the umask like any directory the user creates.
export function makeStagingDirectory(target) {
    for (;;) {
        const staging = `${target}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
        try {
            mkdirSync(staging);
            live.add(staging);
            return staging;
        }
        catch (error) {
            if (error.code !== 'EEXIST')
                throw error;
        }
    }
}
/** The staging folder is gone (moved into place or removed): no longer this process's to clean. */
export function releaseStaging(staging) {
    live.delete(staging);
}
/**
 * Removes what this process is staging, synchronously: for a signal handler, which must finish
 * before the process goes.
 */
export function removeLiveStaging() {
    for (const staging of live)
        rmSync(staging, { recursive: true, force: true });
    live.clear();
}
/**
 * Removes staging folders next to `target` that earlier, killed pulls of it left behind. Best
 * effort: a folder that cannot be read or removed is left for the next pull. Returns what it removed.
 */
export function sweepStaleStaging(target, now = Date.now()) {
    const parent = path.dirname(target);
    const prefix = path.basename(target);
    const removed = [];
    let names;
    try {
        names = readdirSync(parent).filter((name) => name.startsWith(`${prefix}.partial-`));
    }
    catch {
        return removed;
    }
    for (const name of names) {
        const folder = path.join(parent, name);
        if (live.has(folder) || !isStale(name.slice(prefix.length), folder, now))
            continue;
        try {
            rmSync(folder, { recursive: true, force: true });
            removed.push(folder);
        }
        catch {
            // left for the next pull
        }
    }
    return removed;
}
function isStale(suffix, folder, now) {
    const owned = OWNED.exec(suffix);
    if (owned)
        return Number(owned[1]) === process.pid || !isRunning(Number(owned[1]));
    if (!UNOWNED.test(suffix))
        return false;
    try {
        return now - statSync(folder).mtimeMs > UNOWNED_STALE_MS;
    }
    catch {
        return false;
    }
}
// Signal 0 checks that a process exists without signalling it. EPERM: it exists, as another user.
// Within one pid namespace; a pull in another container sharing the folder is not seen (see README).
function isRunning(pid) {
    try {
        process.kill(pid, 0);
        return true;
    }
    catch (error) {
        return error.code === 'EPERM';
    }
}
