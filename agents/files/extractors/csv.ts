// CSV and TSV (csv-parse): the delimiter from the first line (tab for TSV), quoted fields kept whole. Invariant: rows
// stop at limits.maxRows (shared with nested files); the section's rows are tab-separated cell texts, as for sheets.
import { parse as parseCsv } from 'csv-parse/sync';
import { errorMessage } from '../../errors';
import { CorruptFile } from '../errors';
import { type Extractor, limitWarning } from './context';
import { textOf } from './plain';

const cellText = (v: string) => v.replace(/[\t\r\n]+/g, ' ').trim();

export const extractCsv: Extractor = async (input, ctx) => {
  const { text } = textOf(input);
  const first = text.split('\n', 1)[0] ?? '';
  const delimiter = input.detected.kind === 'tsv' ? '\t' : ([',', ';', '|', '\t'].map((d) => [d, first.split(d).length] as const).sort((a, b) => b[1] - a[1])[0]?.[0] ?? ',');
  const room = Math.max(0, ctx.limits.maxRows - ctx.counters.rows);
  let records: string[][];
  try {
    records = parseCsv(text, { delimiter, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, bom: true, to_line: room + 1 }) as string[][];
  } catch (e) {
    throw new CorruptFile(input.name, errorMessage(e));
  }
  const totalLines = text.split('\n').filter((l) => l.trim()).length;
  const truncated = records.length > room;
  if (truncated) {
    records = records.slice(0, room);
    limitWarning(ctx, 'rows', room);
  }
  ctx.counters.rows += records.length;
  const columns = records.reduce((m, r) => Math.max(m, r.length), 0);
  return {
    sections: [{ kind: 'table', title: 'Rows', text: records.map((r) => r.map(cellText).join('\t')).join('\n') }],
    meta: { rows: truncated ? totalLines : records.length, columns, delimiter: delimiter === '\t' ? 'tab' : delimiter, header: (records[0] ?? []).map(cellText).join(', ').slice(0, 500) },
    truncated,
  };
};
