// Samples of every readable format, made here with the same kind of libraries that write them in real life (docx,
// pdfkit, pptxgenjs, exceljs, SheetJS, fflate, sharp), plus the three fixtures no npm package can write
// (test/fixtures/files/README.md). Each sample names the kind it must be detected as and phrases its text must contain.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import * as XLSX from '@e965/xlsx';
import CFB from 'cfb';
import { Document, HeadingLevel, Packer, Paragraph } from 'docx';
import ExcelJS from 'exceljs';
import { strToU8, zipSync, type Zippable } from 'fflate';
import PDFDocument from 'pdfkit';
import PptxGenJS from 'pptxgenjs';
import sharp from 'sharp';
import type { FileKind } from '../../agents/files/types';

export interface Sample {
  name: string;
  bytes: Uint8Array;
  kind: FileKind;
  contains: string[];
}

export const fixture = (file: string) => new Uint8Array(readFileSync(path.join(import.meta.dirname, '../fixtures/files', file)));
const text = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

export async function pdf(pages: string[], options: PDFKit.PDFDocumentOptions = {}): Promise<Uint8Array> {
  const doc = new PDFDocument({ ...options, info: { Title: 'Login spec', Author: 'Ada' } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve) => doc.on('end', () => resolve()));
  pages.forEach((p, i) => {
    if (i > 0) doc.addPage();
    doc.fontSize(14).text(p);
  });
  doc.end();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}

async function docx(): Promise<Uint8Array> {
  const doc = new Document({
    sections: [{
      children: [
        new Paragraph({ text: 'Requirements', heading: HeadingLevel.HEADING_1 }),
        new Paragraph('The login page must support single sign-on.'),
        new Paragraph({ text: 'Out of scope', heading: HeadingLevel.HEADING_2 }),
        new Paragraph('Password reset by SMS.'),
      ],
    }],
  });
  return new Uint8Array(await Packer.toBuffer(doc));
}

async function pptx(): Promise<Uint8Array> {
  const p = new PptxGenJS();
  p.title = 'Roadmap';
  const s1 = p.addSlide();
  s1.addText('Quarterly roadmap', { x: 0.5, y: 0.5, w: 9, h: 1 });
  s1.addNotes('Mention the hiring plan');
  const s2 = p.addSlide();
  s2.addText('Launch checkout v2 in March', { x: 0.5, y: 0.5, w: 9, h: 1 });
  return new Uint8Array((await p.write({ outputType: 'nodebuffer' })) as Buffer);
}

export async function xlsx(rows = 3): Promise<Uint8Array> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Budget');
  ws.addRow(['Item', 'Cost']);
  for (let i = 1; i < rows; i++) ws.addRow([`Servers ${i}`, 1200 + i]);
  wb.addWorksheet('Notes').addRow(['Approved by finance']);
  return new Uint8Array(await wb.xlsx.writeBuffer());
}

function sheetJs(bookType: 'biff8' | 'ods'): Uint8Array {
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet([['Region', 'Revenue'], ['North', 4200], ['South', 3100]]), 'Sales');
  return new Uint8Array(XLSX.write(wb, { type: 'buffer', bookType }) as Buffer);
}

/** An OpenDocument package: mimetype first and stored, then content.xml and the manifest. */
export function odf(mime: string, body: string, manifestExtra = ''): Uint8Array {
  const content = `<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" office:version="1.3"><office:body>${body}</office:body></office:document-content>`;
  const manifest = `<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:media-type="${mime}"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">${manifestExtra}</manifest:file-entry></manifest:manifest>`;
  return zipSync({ mimetype: [strToU8(mime), { level: 0 }], 'content.xml': strToU8(content), 'META-INF/manifest.xml': strToU8(manifest) });
}

const ODT_BODY = '<office:text><text:h text:outline-level="1">Release notes</text:h><text:p>Version 2 adds<text:s/>dark mode.</text:p><text:h text:outline-level="2">Known issues</text:h><text:p>Export is slow.</text:p></office:text>';
const ODP_BODY = '<office:presentation><draw:page draw:name="Intro"><draw:frame><draw:text-box><text:p>Welcome to the kickoff</text:p></draw:text-box></draw:frame></draw:page><draw:page draw:name="page2"><draw:frame><draw:text-box><text:p>Timeline and owners</text:p></draw:text-box></draw:frame></draw:page></office:presentation>';
export const odt = () => odf('application/vnd.oasis.opendocument.text', ODT_BODY);

const EML = [
  'From: Ada Lovelace <ada@example.com>',
  'To: Team <team@example.com>',
  'Subject: Spec for the login page',
  'Date: Tue, 01 Dec 2026 10:00:00 +0000',
  'Message-ID: <spec-1@example.com>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Please review the attached requirements before Friday.',
  '--b1',
  'Content-Type: text/csv; name="requirements.csv"',
  'Content-Disposition: attachment; filename="requirements.csv"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('id,requirement\n1,SSO with Okta\n2,Remember me checkbox\n').toString('base64'),
  '--b1--',
  '',
].join('\r\n');

const NOTEBOOK = JSON.stringify({
  nbformat: 4, nbformat_minor: 5,
  metadata: { kernelspec: { language: 'python', display_name: 'Python 3', name: 'python3' } },
  cells: [
    { cell_type: 'markdown', metadata: {}, source: ['# Churn analysis\n', 'Monthly churn by plan.'] },
    { cell_type: 'code', metadata: {}, execution_count: 1, source: 'print(churn.mean())', outputs: [{ output_type: 'stream', name: 'stdout', text: ['0.042\n'] }] },
  ],
});

async function image(format: 'png' | 'jpeg' | 'gif' | 'webp' | 'avif' | 'tiff'): Promise<Uint8Array> {
  const img = sharp({ create: { width: 320, height: 200, channels: 3, background: { r: 30, g: 120, b: 200 } } });
  return new Uint8Array(await img[format]().toBuffer());
}

/** A 24-bit BMP of 320×200 in one colour, written by hand (sharp writes no BMP): BITMAPFILEHEADER + BITMAPINFOHEADER
 *  and bottom-up rows of BGR pixels, each padded to 4 bytes. */
export function bmp(width = 320, height = 200): Uint8Array {
  const row = Math.ceil((width * 3) / 4) * 4;
  const out = Buffer.alloc(54 + row * height);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  out.writeUInt32LE(row * height, 34);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.set([200, 120, 30], 54 + y * row + x * 3);
  return new Uint8Array(out);
}

/** Every format with its expected kind and text. */
export async function allSamples(): Promise<Sample[]> {
  const zipped = zipSync({
    'docs/readme.md': strToU8('# Archive readme\nThe deploy script lives in bin/.'),
    'bin/deploy.sh': strToU8('#!/bin/bash\necho deploying to production\n'),
    'data/': {} as Zippable,
  });
  return [
    { name: 'spec.pdf', bytes: await pdf(['Login must support SSO', 'Sessions expire after 12 hours']), kind: 'pdf', contains: ['Login must support SSO', 'Sessions expire after 12 hours', '[Page 2]'] },
    { name: 'requirements.docx', bytes: await docx(), kind: 'docx', contains: ['# Requirements', 'single sign-on', '## Out of scope'] },
    { name: 'review.doc', bytes: fixture('reviewing.doc'), kind: 'doc', contains: ['This is a test of reviewing', 'and should be included'] },
    { name: 'roadmap.pptx', bytes: await pptx(), kind: 'pptx', contains: ['[Slide 1]', 'Quarterly roadmap', 'Mention the hiring plan', 'Launch checkout v2 in March'] },
    { name: 'budget.xlsx', bytes: await xlsx(), kind: 'xlsx', contains: ['[Budget]', 'Item\tCost', 'Servers 1\t1201', '[Notes]', 'Approved by finance'] },
    { name: 'sales.xls', bytes: sheetJs('biff8'), kind: 'xls', contains: ['[Sales]', 'North\t4200'] },
    { name: 'release.odt', bytes: odt(), kind: 'odt', contains: ['# Release notes', 'Version 2 adds dark mode.', '## Known issues'] },
    { name: 'sales.ods', bytes: sheetJs('ods'), kind: 'ods', contains: ['South\t3100'] },
    { name: 'kickoff.odp', bytes: odf('application/vnd.oasis.opendocument.presentation', ODP_BODY), kind: 'odp', contains: ['Slide 1: Intro', 'Welcome to the kickoff', 'Timeline and owners'] },
    { name: 'users.csv', bytes: text('name,email,plan\nAda,ada@example.com,pro\n"Lovelace, A",al@example.com,free\n'), kind: 'csv', contains: ['name\temail\tplan', 'Lovelace, A\tal@example.com'] },
    { name: 'metrics.tsv', bytes: text('day\tvisits\nmon\t120\ntue\t98\n'), kind: 'tsv', contains: ['tue\t98'] },
    { name: 'config.json', bytes: text('{"service":"checkout","replicas":3,"regions":["eu","us"]}'), kind: 'json', contains: ['"service": "checkout"', '"replicas": 3'] },
    { name: 'events.ndjson', bytes: text('{"event":"signup","user":1}\n{"event":"purchase","user":1}\n'), kind: 'ndjson', contains: ['"event":"purchase"'] },
    { name: 'deploy.yaml', bytes: text('service: checkout\nreplicas: 3\nimage:\n  tag: v2.1\n'), kind: 'yaml', contains: ['tag: v2.1'] },
    { name: 'pom.xml', bytes: text('<?xml version="1.0"?>\n<project><artifactId>billing-core</artifactId><version>1.4</version></project>'), kind: 'xml', contains: ['billing-core'] },
    { name: 'Cargo.toml', bytes: text('[package]\nname = "rolecall-cli"\nversion = "0.3.0"\n\n[dependencies]\nserde = "1"\n'), kind: 'toml', contains: ['[package]', 'rolecall-cli', '[dependencies]'] },
    { name: 'settings.ini', bytes: text('[database]\nhost = db.internal\npassword = hunter2\n\n[cache]\nttl = 300\n'), kind: 'ini', contains: ['host = db.internal', 'password = ****(masked)', 'ttl = 300'] },
    { name: '.env', bytes: text('PORT=3000\nDATABASE_URL=postgres://app:s3cr3t@db:5432/app\nSTRIPE_KEY=sk_live_abc123\nOPENAI_API_KEY=sk-proj-xyz\n'), kind: 'env', contains: ['PORT=3000', 'DATABASE_URL=postgres://app:****@db:5432/app', 'STRIPE_KEY=****(masked)', 'OPENAI_API_KEY=****(masked)'] },
    { name: 'page.html', bytes: text('<!doctype html><html><head><title>Status</title><script>alert("x")</script></head><body><h1>Incident report</h1><p>Checkout was down for <b>12 minutes</b>.</p><h2>Cause</h2><p>Expired certificate.</p></body></html>'), kind: 'html', contains: ['# Incident report', 'Checkout was down for 12 minutes.', '## Cause'] },
    { name: 'NOTES.md', bytes: text('# Meeting notes\n\n- ship v2\n\n## Actions\n\nAda writes the spec.\n'), kind: 'markdown', contains: ['# Meeting notes', '## Actions', 'Ada writes the spec.'] },
    { name: 'letter.rtf', bytes: text('{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}}\\f0 Dear team,\\par The \\b contract\\b0  is signed.\\par}'), kind: 'rtf', contains: ['Dear team,', 'The contract is signed.'] },
    { name: 'spec-mail.eml', bytes: text(EML), kind: 'eml', contains: ['Subject: Spec for the login page', 'Please review the attached requirements', 'attachment requirements.csv', 'SSO with Okta'] },
    { name: 'attachments.msg', bytes: fixture('attachments.msg'), kind: 'msg', contains: ['Subject: attachmentFiles', 'hmailuser@hmailserver.test', 'attachment jpg.jpg', 'attachment png.png'] },
    { name: 'todo.txt', bytes: text('Buy milk.\nCall the bank about the loan.\n'), kind: 'text', contains: ['Call the bank about the loan.'] },
    { name: 'app.log', bytes: text('2026-12-01 10:00:01 INFO started\n2026-12-01 10:00:02 ERROR db timeout after 30s\n2026-12-01 10:00:03 WARN retrying\n'), kind: 'log', contains: ['ERROR db timeout after 30s'] },
    { name: 'churn.ipynb', bytes: text(NOTEBOOK), kind: 'notebook', contains: ['[Cell 1 (markdown)]', '# Churn analysis', 'print(churn.mean())', '0.042'] },
    { name: 'schema.sql', bytes: text('CREATE TABLE users (id INT PRIMARY KEY, email TEXT);\nSELECT email FROM users WHERE id = 1;\n'), kind: 'sql', contains: ['CREATE TABLE users'] },
    { name: 'server.ts', bytes: text('import http from "node:http";\nexport function start(port: number) {\n  return http.createServer().listen(port);\n}\n'), kind: 'code', contains: ['export function start(port: number)'] },
    { name: 'script', bytes: text('#!/usr/bin/env python3\nimport sys\n\ndef main():\n    print(sys.argv)\n'), kind: 'code', contains: ['def main():'] },
    { name: 'fix.patch', bytes: text('diff --git a/src/app.ts b/src/app.ts\n--- a/src/app.ts\n+++ b/src/app.ts\n@@ -1,2 +1,2 @@\n-const port = 80;\n+const port = 8080;\n export { port };\n'), kind: 'diff', contains: ['[src/app.ts]', '+const port = 8080;'] },
    { name: 'bundle.zip', bytes: zipped, kind: 'zip', contains: ['docs/readme.md (', 'The deploy script lives in bin/.', 'echo deploying to production'] },
    { name: 'chart.png', bytes: await image('png'), kind: 'image', contains: [] },
    { name: 'photo.jpg', bytes: await image('jpeg'), kind: 'image', contains: [] },
    { name: 'anim.gif', bytes: await image('gif'), kind: 'image', contains: [] },
    { name: 'banner.webp', bytes: await image('webp'), kind: 'image', contains: [] },
    { name: 'phone.heic', bytes: fixture('sample.heic'), kind: 'image', contains: [] },
    { name: 'hero.avif', bytes: await image('avif'), kind: 'image', contains: [] },
    { name: 'scan.tiff', bytes: await image('tiff'), kind: 'image', contains: [] },
    { name: 'icon.bmp', bytes: bmp(), kind: 'image', contains: [] },
    { name: 'diagram.svg', bytes: text('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><title>Architecture</title><script>alert(1)</script><rect onclick="steal()" width="10" height="10"/><text x="10" y="50">API gateway</text></svg>'), kind: 'svg', contains: ['Architecture', 'API gateway'] },
  ];
}

/** Sets the "encrypted" flag of every entry (local and central headers): what an encrypting zip tool writes. */
export function markZipEncrypted(zip: Uint8Array): Uint8Array {
  const out = new Uint8Array(zip);
  const view = new DataView(out.buffer);
  for (let i = 0; i + 4 <= out.length; i++) {
    const sig = view.getUint32(i, true);
    if (sig === 0x04034b50) view.setUint16(i + 6, view.getUint16(i + 6, true) | 1, true);
    if (sig === 0x02014b50) view.setUint16(i + 8, view.getUint16(i + 8, true) | 1, true);
  }
  return out;
}

/** Makes every entry declare `size` uncompressed bytes (local and central headers): an archive that lies. */
export function lieAboutSizes(zip: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(zip);
  const view = new DataView(out.buffer);
  for (let i = 0; i + 4 <= out.length; i++) {
    const sig = view.getUint32(i, true);
    if (sig === 0x04034b50) view.setUint32(i + 22, size, true);
    if (sig === 0x02014b50) view.setUint32(i + 24, size, true);
  }
  return out;
}

/** An Office file encrypted with a password: an OLE container with EncryptionInfo and EncryptedPackage streams. */
export function encryptedOfficeFile(): Uint8Array {
  const cfb = CFB.utils.cfb_new();
  CFB.utils.cfb_add(cfb, '/EncryptionInfo', Buffer.from([4, 0, 4, 0, 0x40, 0, 0, 0]));
  CFB.utils.cfb_add(cfb, '/EncryptedPackage', Buffer.alloc(4096, 7));
  return new Uint8Array(CFB.write(cfb, { type: 'buffer' }) as Buffer);
}

/** A PNG whose header claims width × height pixels (no pixel data): a decompression bomb for image decoders. */
export function pngHeader(width: number, height: number): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const type = Buffer.from('IHDR');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([type, ihdr])) >>> 0);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(13);
  const idat = Buffer.from([0, 0, 0, 0, 0x49, 0x44, 0x41, 0x54, 0x35, 0xaf, 0x06, 0x1e]);
  return new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), len, type, ihdr, crc, idat]));
}
