import { lstatSync, mkdirSync, readdirSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { makeStagingDirectory, releaseStaging, sweepStaleStaging } from './staging.js';
// Moves everything from a verified staging folder into an existing destination. What the artifact
// holds replaces what is there (a file, a symlink, or a whole directory where the artifact has a
// file); what the artifact does not hold is left alone. Only real directories are descended into:
// a symlink already in dest is replaced, never written through, so it cannot redirect the
// artifact outside dest. Each move is a rename on one filesystem.
export function mergeInto(staging, dest) {
    for (const name of readdirSync(staging)) {
        const from = path.join(staging, name);
        const to = path.join(dest, name);
        const fromIsDirectory = lstatSync(from).isDirectory();
        const existing = lstatOrUndefined(to);
        if (existing?.isDirectory()) {
            if (fromIsDirectory) {
                mergeInto(from, to);
                continue;
            }
            rmSync(to, { recursive: true, force: true });
        }
        else if (existing && fromIsDirectory) {
            // rename(2) will not put a directory over a file or symlink
            unlinkSync(to);
        }
        renameSync(from, to);
    }
}
export function lstatOrUndefined(file) {
    try {
        return lstatSync(file);
    }
    catch (error) {
        if (error.code === 'ENOENT')
            return undefined;
        throw error;
    }
}
// Several layers that must land together: `fill` writes them into a fresh folder next to dest,
// which then moves into place as one extraction's staging folder does (a rename when dest is
// absent, else a merge). On any failure the folder is removed and dest is as it was.
export async function stageAndCommit(dest, fill) {
    const target = path.resolve(dest);
    mkdirSync(path.dirname(target), { recursive: true });
    sweepStaleStaging(target);
    const staging = makeStagingDirectory(target);
    try {
        const result = await fill(staging);
        if (lstatOrUndefined(target) === undefined) {
            renameSync(staging, target);
        }
        else {
            mergeInto(staging, target);
            rmSync(staging, { recursive: true, force: true });
        }
        return result;
    }
    catch (error) {
        rmSync(staging, { recursive: true, force: true });
        throw error;
    }
    finally {
        releaseStaging(staging);
    }
}
// The parts of one tree that land together (a split layer set): `fill` writes part i into
// folders[i] (they may run at once: no two write into one folder), then they are merged in order
// into one staging folder, committed as stageAndCommit does. The folders sit in a staging folder
// of their own next to dest, swept like any other when a process is killed.
export async function stagePartsAndCommit(dest, count, fill) {
    return stageAndCommit(dest, async (staging) => {
        const work = makeStagingDirectory(staging);
        try {
            const folders = Array.from({ length: count }, (_, i) => path.join(work, String(i)));
            const result = await fill(folders);
            for (const folder of folders)
                if (lstatOrUndefined(folder))
                    mergeInto(folder, staging);
            return result;
        }
        finally {
            rmSync(work, { recursive: true, force: true });
            releaseStaging(work);
        }
    });
}
