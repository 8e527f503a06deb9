/**
 * Commands and files as the user sees them. Every replay, rerun and next-step command
 * hintsim prints must run as printed from the directory the user typed it in, and no file
 * hintsim names by itself may be written through a link someone planted under that name.
 *
 *   hintsimCommand()  how to start hintsim from the user's directory: `hintsim` when that
 *                     name on the PATH is this very CLI; `npx hintsim` inside the clone (npm
 *                     runs a package's own bin there; a fresh clone has no `hintsim` on the
 *                     PATH); `npx --prefix ROOT hintsim` from anywhere else.
 *   userCwd()         where the user stands: npm runs `npm start` / `npm run hintsim` in
 *                     the package root and passes the user's directory as INIT_CWD.
 *   shellPath(p)      a path as the user types it: relative to userCwd() when below it,
 *                     quoted for a POSIX shell when it needs quoting.
 *   writeOwnFile(p)   create a file exclusively; replace it only when it is a plain file of
 *                     this user with one link (never follows a symlink).
 */
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, openSync, realpathSync, writeSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json is): src/machine/ -> two up, or dist/src/machine -> three up. */
export const PACKAGE_ROOT = (() => {
  const here = dirname(fileURLToPath(import.meta.url));
  const up2 = resolve(here, '..', '..');
  return /[\\/]dist$/.test(up2) ? resolve(up2, '..') : up2;
})();

/** The directory the user typed the command in. */
export function userCwd(): string {
  const e = process.env;
  // npm scripts of this package run with cwd = the package root; INIT_CWD is where `npm` was typed.
  if (e.npm_package_name === 'hintsim' && (e.npm_lifecycle_event === 'start' || e.npm_lifecycle_event === 'hintsim') && e.INIT_CWD) return e.INIT_CWD;
  return process.cwd();
}

/** A word quoted for a POSIX shell when it has characters the shell would read. */
export function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`;
}

function inside(dir: string, p: string): boolean {
  const rel = relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function real(p: string): string | null {
  try { return realpathSync(p); } catch { return null; }
}

/** The `hintsim` on the user's PATH, if it is this CLI (npx's own bin folders do not count). */
function onPathIsThis(): boolean {
  const script = process.argv[1] ? real(process.argv[1]) : null;
  if (!script) return false;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '' || /[\\/]node_modules[\\/]\.bin$/.test(dir) || /[\\/]_npx[\\/]/.test(dir)) continue;
    const p = real(join(dir, 'hintsim'));
    if (p !== null) return p === script;
  }
  return false;
}

let cached: string | null = null;
/** How to start hintsim from the user's directory (see the file comment). */
export function hintsimCommand(): string {
  if (cached !== null) return cached;
  if (onPathIsThis()) cached = 'hintsim';
  else if (inside(PACKAGE_ROOT, real(userCwd()) ?? userCwd())) cached = 'npx hintsim';
  else cached = `npx --prefix ${shellWord(PACKAGE_ROOT)} hintsim`;
  return cached;
}

/** A path as the user types it from userCwd(): relative when below it, quoted when needed. */
export function shellPath(p: string): string {
  const cwd = userCwd();
  const abs = resolve(process.cwd(), p);
  return shellWord(inside(cwd, abs) ? relative(cwd, abs) || '.' : abs);
}

/**
 * Write `text` to `path`, creating it exclusively. An existing file is replaced only when
 * it is a regular file of this user with a single link: never through a symlink (O_NOFOLLOW)
 * or into someone else's file. Throws the fs error (EEXIST for a file it will not replace).
 */
export function writeOwnFile(path: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const st = lstatSync(path);
    const mine = typeof process.getuid !== 'function' || st.uid === process.getuid();
    if (!st.isFile() || !mine || st.nlink !== 1) throw e;
    fd = openSync(path, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st2 = fstatSync(fd);
    if (st2.ino !== st.ino || st2.dev !== st.dev) { closeSync(fd); throw e; } // swapped between the checks
  }
  try {
    const buf = Buffer.from(text, 'utf8');
    ftruncateSync(fd); // only once the file is known to be ours
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
  } finally {
    closeSync(fd);
  }
}

/** The command that replays a replay file, as the user types it where they stand. */
export function replayFileCommand(file: string): string {
  return `${hintsimCommand()} replay ${shellPath(file)}`;
}

