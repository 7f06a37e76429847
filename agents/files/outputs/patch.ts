// Changes out: the Developer's change as a unified diff (.patch). When the output carries a diff (a `patch` field, or
// the value itself), it must parse as one (the `diff` package) and ships as it is; otherwise each change's code is
// written as a diff that adds it to its file (createTwoFilesPatch), headed by a comment saying so. Invariant: file
// paths in a built patch are relative and without "..", so `git apply` cannot be led outside the repository by it.
import { createTwoFilesPatch, parsePatch } from 'diff';
import { OutputBuildError } from './errors';

const MAX_PATCH_CHARS = 1_000_000;

const safePath = (p: string) => p.replace(/\\/g, '/').split('/').filter((s) => s && s !== '.' && s !== '..').join('/').slice(0, 300) || 'change.txt';

function asDiff(name: string, text: string): string {
  let files;
  try {
    files = parsePatch(text);
  } catch (e) {
    throw new OutputBuildError(name, 'the output\'s patch is not a unified diff', { cause: e });
  }
  if (!files.some((f) => f.hunks.length > 0)) throw new OutputBuildError(name, 'the output\'s patch is not a unified diff (no hunks)');
  for (const f of files) {
    for (const p of [f.oldFileName, f.newFileName]) {
      if (p && p !== '/dev/null' && (/(^|\/)\.\.(\/|$)/.test(p) || /^\/(?!dev\/null)/.test(p.replace(/^[ab]\//, '')))) throw new OutputBuildError(name, `the output's patch names a path outside the repository (${p.slice(0, 100)})`);
    }
  }
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** The patch, or undefined when the output has neither a diff nor any code (nothing to attach, nothing to complain of). */
export function toPatch(name: string, value: unknown): Uint8Array | undefined {
  const obj = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  const given = typeof value === 'string' ? value : typeof obj?.patch === 'string' && obj.patch.trim() ? obj.patch : undefined;
  let text: string;
  if (given !== undefined) {
    text = asDiff(name, given.slice(0, MAX_PATCH_CHARS));
  } else {
    const changes = Array.isArray(obj?.changes) ? obj.changes : [];
    const withCode = changes.filter((c): c is { file: string; change?: string; code: string } => !!c && typeof c === 'object' && typeof c.file === 'string' && typeof c.code === 'string' && c.code.trim() !== '');
    if (!withCode.length) return undefined;
    const header = '# Proposed by Rolecall\'s Developer role: each change\'s code as an addition to its file.\n# Review before applying (git apply --check).\n';
    text = header + withCode.map((c) => {
      const file = safePath(c.file);
      const code = c.code.endsWith('\n') ? c.code : `${c.code}\n`;
      return createTwoFilesPatch(`a/${file}`, `b/${file}`, '', code, undefined, undefined, { context: 3 }).replace(/^=+\n/m, '').replace(/^Index: .*\n/m, '');
    }).join('');
    if (text.length > MAX_PATCH_CHARS) throw new OutputBuildError(name, 'the patch is larger than 1 MB');
  }
  return new TextEncoder().encode(text);
}
