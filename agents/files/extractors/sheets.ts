// Workbooks: XLSX (exceljs), XLS and ODS (SheetJS, published on npm as @e965/xlsx); CSV/TSV are in csv.ts. Invariant:
// rows across all sheets stop at limits.maxRows (shared with nested files); each sheet is one section whose rows are
// tab-separated cell texts; a password-protected workbook is an EncryptedFile.
import * as XLSX from '@e965/xlsx';
import ExcelJS from 'exceljs';
import { errorMessage } from '../../errors';
import { CorruptFile, EncryptedFile } from '../errors';
import { openZip } from '../zip';
import type { FileSection } from '../types';
import { type ExtractContext, type Extractor, limitWarning } from './context';

export const cellText = (v: string) => v.replace(/[\t\r\n]+/g, ' ').trim();

export const extractXlsx: Extractor = async ({ bytes, name }, ctx) => {
  (await openZip(bytes, name, ctx.limits)).close(); // refuse bombs before exceljs inflates everything
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(Buffer.from(bytes) as unknown as ArrayBuffer);
  } catch (e) {
    throw new CorruptFile(name, errorMessage(e));
  }
  const sections: FileSection[] = [];
  let rows = 0;
  let truncated = false;
  let columns = 0;
  for (const ws of wb.worksheets) {
    const lines: string[] = [];
    const total = ws.actualRowCount;
    for (let i = 1; i <= ws.rowCount; i++) {
      if (ctx.counters.rows >= ctx.limits.maxRows) {
        truncated = true;
        break;
      }
      const row = ws.getRow(i);
      if (!row.hasValues) continue;
      const cells: string[] = [];
      for (let c = 1; c <= row.cellCount; c++) {
        let t = '';
        try {
          t = row.getCell(c).text ?? '';
        } catch {
          t = '';
        }
        cells.push(cellText(t));
      }
      while (cells.length && !cells[cells.length - 1]) cells.pop();
      columns = Math.max(columns, cells.length);
      lines.push(cells.join('\t'));
      ctx.counters.rows++;
      rows++;
    }
    sections.push({ kind: 'sheet', title: ws.name, text: lines.join('\n') });
    if (truncated) {
      limitWarning(ctx, 'rows', ctx.limits.maxRows);
      ctx.warnings.push(`sheet ${ws.name} has ${total} rows`);
      break;
    }
  }
  return { sections, meta: { sheets: wb.worksheets.map((w) => w.name), rows, columns }, truncated };
};

/** XLS (BIFF) and ODS through SheetJS. */
export const extractSheetJs: Extractor = async ({ bytes, name, detected }, ctx) => {
  if (detected.kind === 'ods') (await openZip(bytes, name, ctx.limits)).close();
  const room = Math.max(0, ctx.limits.maxRows - ctx.counters.rows);
  let wb: XLSX.WorkBook;
  try {
    wb = XLSX.read(Buffer.from(bytes), { type: 'buffer', dense: true, sheetRows: room + 1, cellFormula: false, cellHTML: false, WTF: false });
  } catch (e) {
    const msg = errorMessage(e);
    if (/password|encrypt/i.test(msg)) throw new EncryptedFile(name);
    throw new CorruptFile(name, msg);
  }
  return sheetJsSections(wb, ctx);
};

function sheetJsSections(wb: XLSX.WorkBook, ctx: ExtractContext) {
  const sections: FileSection[] = [];
  let rows = 0;
  let truncated = false;
  for (const sheetName of wb.SheetNames) {
    const ws = wb.Sheets[sheetName];
    if (!ws) continue;
    const csv = XLSX.utils.sheet_to_csv(ws, { FS: '\t', blankrows: false, strip: true });
    let lines = csv.split('\n').filter((l) => l.replace(/\t/g, '').trim());
    const room = Math.max(0, ctx.limits.maxRows - ctx.counters.rows);
    if (lines.length > room) {
      lines = lines.slice(0, room);
      truncated = true;
    }
    ctx.counters.rows += lines.length;
    rows += lines.length;
    sections.push({ kind: 'sheet', title: sheetName, text: lines.map((l) => l.split('\t').map(cellText).join('\t')).join('\n') });
    if (truncated) {
      limitWarning(ctx, 'rows', ctx.limits.maxRows);
      break;
    }
  }
  return { sections, meta: { sheets: wb.SheetNames, rows }, truncated };
}
