// Bad files get a clear answer and harm nothing: each failure kind is its own error class with a sentence the thread
// can show, and the pool keeps working afterwards.
import { pathToFileURL } from 'node:url';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorruptFile, DecompressionBomb, EmptyFile, EncryptedFile, FileError, FileTooLarge, ParseTimeout, UnsafeArchivePath, UnsupportedFileType } from '../../agents/files/errors';
import { FileParserPool } from '../../agents/files/pool';
import { waitFor } from '../support/wait';
import { encryptedOfficeFile, lieAboutSizes, markZipEncrypted, odf, odt, pdf, pngHeader, xlsx } from './samples';

let pool: FileParserPool;
beforeAll(() => {
  pool = new FileParserPool({ timeoutMs: 60_000, limits: { ocr: false } });
});
afterAll(() => pool.close());

async function failure(p: Promise<unknown>): Promise<FileError> {
  const r = await p.then(() => undefined, (e: unknown) => e);
  if (!(r instanceof FileError)) throw new Error(`expected a FileError, got ${String(r)}`);
  return r;
}

const csv = new TextEncoder().encode('a,b\n1,2\n');

describe('bad files', () => {
  it('refuses a file above the size limit (default 25 MB) before parsing it', async () => {
    const e = await failure(pool.extract(new Uint8Array(26 * 1024 * 1024), 'dump.bin'));
    expect(e).toBeInstanceOf(FileTooLarge);
    expect(e.message).toBe('dump.bin was skipped: it is 26 MB, above the 25 MB limit');
    const small = await failure(pool.extract(new Uint8Array(2048).fill(65), 'a.txt', { maxBytes: 1024 }));
    expect(small).toBeInstanceOf(FileTooLarge);
  });

  it('refuses a zip bomb by its compression ratio and total size, before inflating it', async () => {
    const bomb = zipSync({ 'zeros.txt': new Uint8Array(40 * 1024 * 1024) }, { level: 9 });
    expect(bomb.length).toBeLessThan(200_000);
    const e = await failure(pool.extract(bomb, 'bomb.zip'));
    expect(e).toBeInstanceOf(DecompressionBomb);
    expect(e.message).toMatch(/^bomb\.zip was skipped: it expands far beyond its size \(zeros\.txt compresses \d+:1\)$/);
    // Many small entries that add up: the declared total is checked too.
    const many = zipSync(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`part${i}.txt`, new Uint8Array(300 * 1024).fill(i + 65)])));
    expect(await failure(pool.extract(many, 'many.zip', { maxUncompressedBytes: 1024 * 1024 }))).toBeInstanceOf(DecompressionBomb);
  });

  it('stops an archive that lies about its sizes while inflating it', async () => {
    const real = zipSync({ 'notes.txt': strToU8('x'.repeat(200_000)) });
    const e = await failure(pool.extract(lieAboutSizes(real, 1000), 'liar.zip'));
    expect([DecompressionBomb, CorruptFile].some((c) => e instanceof c)).toBe(true);
    expect(e.message).toMatch(/^liar\.zip was skipped: /);
  });

  it('refuses a zip-slip archive (entry paths that climb out or are absolute) and writes nothing', async () => {
    for (const path of ['../../etc/cron.d/evil', '/etc/passwd', 'ok/../../x.sh']) {
      const zip = zipSync({ 'readme.txt': strToU8('hi'), [path]: strToU8('echo pwned') });
      const e = await failure(pool.extract(zip, 'slip.zip'));
      expect(e).toBeInstanceOf(UnsafeArchivePath);
      expect(e.message).toContain('slip.zip was skipped: it holds an entry with an unsafe path');
    }
  });

  it('says which files are password-protected: PDF, ZIP, Office, OpenDocument', async () => {
    const cases: [string, Uint8Array][] = [
      ['spec.pdf', await pdf(['secret plans'], { userPassword: 'hunter2', ownerPassword: 'owner', pdfVersion: '1.7' })],
      ['archive.zip', markZipEncrypted(zipSync({ 'a.txt': strToU8('secret') }))],
      ['budget.xlsx', encryptedOfficeFile()],
      ['notes.odt', odf('application/vnd.oasis.opendocument.text', '<office:text/>', '<manifest:encryption-data manifest:checksum-type="SHA1"/>')],
    ];
    for (const [name, bytes] of cases) {
      const e = await failure(pool.extract(bytes, name));
      expect(e, name).toBeInstanceOf(EncryptedFile);
      expect(e.message).toBe(`${name} was skipped: it is password-protected`);
    }
  });

  it('reports corrupt files as corrupt', async () => {
    const good = await pdf(['page']);
    const cases: [string, Uint8Array][] = [
      ['broken.pdf', good.slice(0, 400)],
      ['broken.xlsx', (await xlsx()).slice(0, 2000)],
      ['broken.odt', odt().slice(0, 300)],
      ['bad.json', new TextEncoder().encode('{"a": [1, 2,,]}')],
    ];
    for (const [name, bytes] of cases) {
      const e = await failure(pool.extract(bytes, name));
      expect(e, `${name}: ${e.message}`).toBeInstanceOf(CorruptFile);
      expect(e.message).toMatch(new RegExp(`^${name.replace('.', '\\.')} was skipped: it could not be read \\(.+\\)$`));
    }
  });

  it('refuses unknown and empty files', async () => {
    const elf = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...new Array(120).fill(0)]);
    const e1 = await failure(pool.extract(elf, 'tool'));
    expect(e1).toBeInstanceOf(UnsupportedFileType);
    expect(e1.message).toMatch(/^tool was skipped: its type \(.+\) is not one Rolecall can read$/);
    const noise = new Uint8Array(4096).map((_, i) => (i * 7919 + 13) % 256);
    expect(await failure(pool.extract(noise, 'data.docx'))).toBeInstanceOf(UnsupportedFileType); // a name is not a type
    expect(await failure(pool.extract(new Uint8Array(0), 'empty.txt'))).toBeInstanceOf(EmptyFile);
  });

  it('refuses an image whose header claims a pixel flood, before decoding it', async () => {
    const e = await failure(pool.extract(pngHeader(60_000, 60_000), 'huge.png'));
    expect(e).toBeInstanceOf(DecompressionBomb);
    expect(e.message).toBe('huge.png was skipped: it expands far beyond its size (60000×60000 pixels)');
    expect(await failure(pool.prepareImage(pngHeader(60_000, 60_000), 'huge.png'))).toBeInstanceOf(DecompressionBomb);
  });

  it('cuts long files at the page, row, entry and text limits and says so', async () => {
    const three = await pool.extract(await pdf(['one', 'two', 'three']), 'long.pdf', { maxPages: 2 });
    expect(three.truncated).toBe(true);
    expect(three.structure.sections).toHaveLength(2);
    expect(three.warnings).toContain('only the first 2 pages of 3 were read (limit)');
    const sheet = await pool.extract(await xlsx(50), 'big.xlsx', { maxRows: 10 });
    expect(sheet.truncated).toBe(true);
    expect(sheet.text.split('\n').filter((l) => l.startsWith('Servers')).length).toBe(9);
    const zip = await pool.extract(zipSync(Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`f${i}.txt`, strToU8(`file ${i}`)]))), 'five.zip', { maxEntries: 2 });
    expect(zip.truncated).toBe(true);
    expect(zip.warnings.join(' ')).toContain('only the first 2 entries of 5 were read');
    const text = await pool.extract(new TextEncoder().encode('word '.repeat(10_000)), 'long.txt', { maxTextChars: 1000 });
    expect(text.text.length).toBe(1000);
    expect(text.truncated).toBe(true);
  });

  it('keeps a bad attachment from sinking the mail and a bad entry from sinking the archive', async () => {
    const zip = zipSync({ 'good.csv': strToU8('a,b\n1,2\n'), 'bad.pdf': strToU8('%PDF-1.7\n garbage') });
    const r = await pool.extract(zip, 'mixed.zip');
    expect(r.text).toContain('a\tb');
    expect(r.text).toContain('bad.pdf was skipped: it could not be read');
    expect(r.warnings).toContain('1 entry could not be read');
  });
});

describe('a parser that hangs', () => {
  let hanging: FileParserPool;
  beforeAll(() => {
    hanging = new FileParserPool({ timeoutMs: 5_000, threads: 1, testHookModule: pathToFileURL(`${import.meta.dirname}/hang-hook.ts`).href });
  });
  afterAll(() => hanging.close());

  it('is stopped at the time limit, its thread terminated, and the pool goes on', async () => {
    const log = new TextEncoder().encode('2026-12-01 10:00:00 ERROR stuck\n2026-12-01 10:00:01 ERROR stuck\n');
    const pending = failure(hanging.extract(log, 'app.log'));
    const [spinning] = await waitFor(() => (hanging.threadIds.length ? hanging.threadIds : undefined), 'a parser thread');
    const e = await pending;
    expect(e).toBeInstanceOf(ParseTimeout);
    expect(e.message).toBe('app.log was skipped: reading it took longer than 5 s');
    // The spinning thread is gone (a busy loop never yields, so only terminating it frees the core) …
    await waitFor(() => !hanging.threadIds.includes(spinning!), 'the spinning thread to be terminated');
    // … and the next file is read by a fresh thread.
    const r = await hanging.extract(csv, 'ok.csv');
    expect(r.kind).toBe('csv');
  });
});
