// ZIP archives: the listing, and each contained file read through the same dispatcher (ctx.nested) within the limits
// (zip.ts refuses zip-slip paths, encrypted entries and bombs before anything is inflated). Invariant: entries past
// maxEntries or maxDepth are listed, not read; nested archives count against the same budget.
import { openZip } from '../zip';
import type { FileSection } from '../types';
import { type Extractor, limitWarning, nestedSections } from './context';

export const extractZip: Extractor = async ({ bytes, name }, ctx) => {
  const zip = await openZip(bytes, name, ctx.limits);
  try {
    const files = zip.entries.filter((e) => !e.directory);
    const listing = zip.entries.map((e) => (e.directory ? e.path : `${e.path} (${e.size} bytes)`)).join('\n');
    const sections: FileSection[] = [{ kind: 'body', title: 'Contents', text: listing }];
    if (zip.truncated) limitWarning(ctx, 'entries', zip.entries.length, zip.totalEntries);
    let unread = 0;
    let failed = 0;
    for (const entry of files) {
      if (ctx.depth + 1 > ctx.limits.maxDepth || ctx.counters.entries >= ctx.limits.maxEntries || entry.size > ctx.limits.maxBytes) {
        unread++;
        continue;
      }
      ctx.counters.entries++;
      const result = await ctx.nested(await zip.read(entry.path), entry.path);
      if (!('structure' in result)) failed++;
      sections.push(...nestedSections(entry.path, 'entry', result, ctx.depth + 1));
    }
    if (unread) ctx.warnings.push(`${unread} entr${unread > 1 ? 'ies were' : 'y was'} listed but not read (limits)`);
    if (failed) ctx.warnings.push(`${failed} entr${failed > 1 ? 'ies' : 'y'} could not be read`);
    return { sections, meta: { entries: zip.totalEntries, files: files.length }, truncated: zip.truncated || unread > 0 };
  } finally {
    zip.close();
  }
};
