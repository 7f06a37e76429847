// Tables out: rows built from a list in a role's output (e.g. the QA Tester's test cases), written as CSV and XLSX with
// SheetJS (@e965/xlsx). Invariants: every cell is text (no formulas are written), a CSV cell that a spreadsheet would
// run as a formula (=, +, -, @ first) is prefixed with an apostrophe, and the table is bounded (rows, cell length).
import * as XLSX from '@e965/xlsx';
import { OutputBuildError } from './errors';

const MAX_ROWS = 5_000;
const MAX_CELL = 32_000; // Excel's own cell limit is 32,767 characters

/** The rows of a list: objects become rows keyed by their fields (in first-seen order), other items one "value" cell. */
export function rowsOf(name: string, value: unknown): { header: string[]; rows: string[][] } {
  if (!Array.isArray(value)) throw new OutputBuildError(name, 'the output field is not a list');
  if (value.length === 0) throw new OutputBuildError(name, 'the list is empty');
  const items = value.slice(0, MAX_ROWS);
  const header: string[] = [];
  for (const item of items) {
    if (item && typeof item === 'object' && !Array.isArray(item)) for (const k of Object.keys(item)) if (!header.includes(k)) header.push(k);
  }
  if (header.length === 0) header.push('value');
  const rows = items.map((item) =>
    item && typeof item === 'object' && !Array.isArray(item) ? header.map((k) => cellText((item as Record<string, unknown>)[k])) : [cellText(item), ...header.slice(1).map(() => '')],
  );
  return { header, rows };
}

/** A value as one cell: lists numbered one per line, objects as "key: value" lines. */
function cellText(v: unknown): string {
  let s: string;
  if (v === undefined || v === null) s = '';
  else if (Array.isArray(v)) s = v.map((x, i) => `${i + 1}. ${cellText(x)}`).join('\n');
  else if (typeof v === 'object') s = Object.entries(v).map(([k, x]) => `${k}: ${cellText(x)}`).join('\n');
  else s = String(v);
  return s.length > MAX_CELL ? `${s.slice(0, MAX_CELL - 1)}…` : s;
}

const FORMULA_START = /^[=+\-@\t\r]/;

function sheetOf(table: { header: string[]; rows: string[][] }, csvSafe: boolean): XLSX.WorkSheet {
  const cells = [table.header, ...table.rows].map((r) => r.map((c) => (csvSafe && FORMULA_START.test(c) ? `'${c}` : c)));
  const sheet = XLSX.utils.aoa_to_sheet(cells, { cellDates: false });
  sheet['!cols'] = table.header.map((_, i) => ({ wch: Math.min(60, Math.max(10, ...cells.map((r) => Math.min(60, (r[i] ?? '').split('\n')[0]!.length)))) }));
  return sheet;
}

export function toCsv(table: { header: string[]; rows: string[][] }): Uint8Array {
  // RFC 4180: comma separated, CRLF lines, fields with commas, quotes or line breaks quoted (SheetJS does the quoting)
  const csv = XLSX.utils.sheet_to_csv(sheetOf(table, true), { FS: ',', RS: '\r\n', blankrows: true, forceQuotes: false });
  return new TextEncoder().encode(`\ufeff${csv}\r\n`); // BOM: Excel then reads UTF-8
}

export function toXlsx(table: { header: string[]; rows: string[][] }, sheetName: string): Uint8Array {
  const book = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(book, sheetOf(table, false), sheetName.replace(/[\\/?*[\]:]/g, ' ').slice(0, 31) || 'Sheet1');
  return new Uint8Array(XLSX.write(book, { type: 'buffer', bookType: 'xlsx', compression: true }) as Buffer);
}
