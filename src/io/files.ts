/**
 * File output that never leaves a half-written file, checked before any work is done.
 *
 * - `checkOutputFile` / `checkOutputDir` validate a destination up front (called by commands before a long
 *   run): the nearest existing ancestor must be a writable folder, a file destination must not be a
 *   folder, and nothing is created.
 * - `writeFileAtomic` writes to a temporary file in the destination's folder and renames it over the
 *   destination (atomic within a file system). Folders are created one level at a time (a recursive
 *   mkdir can spin forever under pseudo file systems such as /proc). Overwriting keeps the existing file's
 *   permission bits. A destination that is a symbolic link is followed: the link stays, its target is
 *   replaced.
 * - Temporary files still open when the process gets SIGINT or SIGTERM are removed before it exits.
 */
import {
  accessSync,
  chmodSync,
  constants,
  lstatSync,
  mkdirSync,
  realpathSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/** A destination that cannot be written; the message names the path and says why (one line). */
export class OutputError extends Error {
  override name = "OutputError";
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The nearest existing ancestor of `path` (itself included) and its stats. */
function nearestExisting(path: string): { dir: string; stats: Stats } {
  let p = resolve(path);
  for (;;) {
    const s = statOrUndefined(p);
    if (s) return { dir: p, stats: s };
    const up = dirname(p);
    if (up === p) throw new OutputError(`${path}: no existing folder above it`);
    p = up;
  }
}

function checkWritableFolder(dir: string, stats: Stats, shown: string): void {
  if (!stats.isDirectory()) throw new OutputError(`${shown}: ${dir} is not a folder`);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new OutputError(`${shown}: folder ${dir} is not writable`);
  }
}

/** Throws an OutputError unless a file can be written at `path` (creating missing folders). */
export function checkOutputFile(path: string): void {
  const s = statOrUndefined(path);
  if (s?.isDirectory()) throw new OutputError(`${path} is a folder, not a file`);
  if (s && !s.isFile()) throw new OutputError(`${path} exists and is not a regular file`);
  if (s) {
    try {
      accessSync(path, constants.W_OK);
    } catch {
      throw new OutputError(`${path} is not writable`);
    }
  }
  const { dir, stats } = nearestExisting(dirname(resolve(path)));
  checkWritableFolder(dir, stats, path);
}

/** Throws an OutputError unless files can be written into the folder `path` (created if missing). */
export function checkOutputDir(path: string): void {
  const { dir, stats } = nearestExisting(path);
  checkWritableFolder(dir, stats, path);
}

/** Creates `dir` and its missing parents, one level at a time. */
export function ensureDir(dir: string): void {
  const missing: string[] = [];
  let p = resolve(dir);
  for (;;) {
    const s = statOrUndefined(p);
    if (s) {
      if (!s.isDirectory()) throw new OutputError(`${dir}: ${p} is not a folder`);
      break;
    }
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      mkdirSync(missing[i]);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST" && statOrUndefined(missing[i])?.isDirectory()) continue;
      throw new OutputError(`cannot create folder ${missing[i]} (${code ?? (err as Error).message})`);
    }
  }
}

// --- temporary files and signals -------------------------------------------------------------------------

const pending = new Set<string>();
let handlersInstalled = false;

function removePendingAndExit(signal: NodeJS.Signals, code: number): void {
  for (const tmp of pending) rmSync(tmp, { force: true });
  pending.clear();
  process.stderr.write(`ebm: interrupted (${signal}); temporary files removed\n`);
  process.exit(code);
}

/**
 * When another handler (a training loop that saves a checkpoint and stops) listens too and no temporary
 * file is open, the signal is left to it; otherwise the temporary files go and the process exits.
 */
function onSignal(signal: NodeJS.Signals, code: number): void {
  if (pending.size === 0 && process.listenerCount(signal) > 1) return;
  removePendingAndExit(signal, code);
}

/** A temporary path beside `path`, removed on SIGINT/SIGTERM until `releaseTemp` is called. */
export function reserveTemp(path: string, tag = ""): string {
  if (!handlersInstalled) {
    handlersInstalled = true;
    process.on("SIGINT", () => onSignal("SIGINT", 130));
    process.on("SIGTERM", () => onSignal("SIGTERM", 143));
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${tag}${counter++}.tmp`);
  pending.add(tmp);
  return tmp;
}

/** Forgets a temporary path (after it was renamed or removed). */
export function releaseTemp(tmp: string): void {
  pending.delete(tmp);
}

let counter = 0;

/**
 * Where a write to `path` must land, and the permission bits to keep: a symbolic link resolves to its
 * target (the link itself is kept); an existing file keeps its mode.
 */
export function resolveDestination(path: string): { path: string; mode?: number } {
  let target = path;
  try {
    if (lstatSync(path).isSymbolicLink()) target = realpathSync(path);
  } catch {
    // missing: a new file (a dangling link's target does not exist either: write the link's own path)
  }
  const s = statOrUndefined(target);
  if (s?.isDirectory()) throw new OutputError(`${path} is a folder, not a file`);
  return { path: target, mode: s ? s.mode & 0o7777 : undefined };
}

/** Renames `tmp` over `dest`, first giving it `mode` when the destination existed. */
export function commitTemp(tmp: string, dest: { path: string; mode?: number }): void {
  if (dest.mode !== undefined) chmodSync(tmp, dest.mode);
  renameSync(tmp, dest.path);
  releaseTemp(tmp);
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dest = resolveDestination(path);
  ensureDir(dirname(dest.path));
  const tmp = reserveTemp(dest.path);
  try {
    writeFileSync(tmp, data);
    commitTemp(tmp, dest);
  } catch (err) {
    rmSync(tmp, { force: true });
    releaseTemp(tmp);
    if (err instanceof OutputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new OutputError(`cannot write ${path} (${code ?? (err as Error).message})`);
  }
}
