// Where the files that ship with Rolecall's code are read at run time (SQL migrations, workflow templates, console
// assets, data files). Invariant: shipped('<path relative to the repository>') names the same file whether the
// TypeScript sources run (tsx, vitest: the repository) or the build does (scripts/build.ts: every module keeps its
// import.meta location under the output directory, and every file of the source tree that is not TypeScript is
// copied there at its own relative path).
import path from 'node:path';

/** The repository, or the build's output directory. */
export const SHIPPED_ROOT = path.resolve(import.meta.dirname, '..');

/** The absolute path of a shipped file or directory, e.g. shipped('prisma/migrations'). */
export const shipped = (relative: string): string => path.join(SHIPPED_ROOT, relative);
