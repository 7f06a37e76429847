// Every readable format, generated (or a fixture), read through the parser pool as production reads it: the kind comes
// from the content, the text holds what the file says, and structure and meta describe it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileParserPool } from '../../agents/files/pool';
import { FILE_KINDS } from '../../agents/files/types';
import { allSamples, type Sample } from './samples';

let pool: FileParserPool;
let samples: Sample[];

beforeAll(async () => {
  pool = new FileParserPool({ timeoutMs: 120_000, limits: { ocr: false } });
  samples = await allSamples();
});
afterAll(() => pool.close());

describe('file formats', () => {
  it('covers every kind with at least one sample, 30 formats or more', () => {
    expect(new Set(samples.map((s) => s.kind))).toEqual(new Set(FILE_KINDS));
    expect(samples.length).toBeGreaterThanOrEqual(30);
  });

  it('reads each sample: kind by content, text as written', async () => {
    const failures: string[] = [];
    for (const s of samples) {
      const r = await pool.extract(s.bytes, s.name).catch((e: Error) => e);
      if (r instanceof Error) {
        failures.push(`${s.name}: ${r.message}`);
        continue;
      }
      if (r.kind !== s.kind) failures.push(`${s.name}: kind ${r.kind}, expected ${s.kind}`);
      for (const c of s.contains) if (!r.text.includes(c)) failures.push(`${s.name}: text lacks ${JSON.stringify(c)}; text: ${JSON.stringify(r.text.slice(0, 400))}`);
      expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(r.bytes).toBe(s.bytes.length);
    }
    expect(failures).toEqual([]);
  });

  it('describes structure and meta', async () => {
    const by = (name: string) => samples.find((s) => s.name === name)!;
    const read = (name: string) => pool.extract(by(name).bytes, name);

    const spec = await read('spec.pdf');
    expect(spec.meta).toMatchObject({ pages: 2, title: 'Login spec', author: 'Ada' });
    expect(spec.structure.sections.map((s) => s.title)).toEqual(['Page 1', 'Page 2']);

    const budget = await read('budget.xlsx');
    expect(budget.meta.sheets).toEqual(['Budget', 'Notes']);
    expect(budget.structure.sections.map((s) => [s.kind, s.title])).toEqual([['sheet', 'Budget'], ['sheet', 'Notes']]);

    const docx = await read('requirements.docx');
    expect(docx.structure.sections.filter((s) => s.kind === 'heading').map((s) => [s.title, s.level])).toEqual([['Requirements', 1], ['Out of scope', 2]]);

    const deck = await read('roadmap.pptx');
    expect(deck.meta.slides).toBe(2);

    const mail = await read('spec-mail.eml');
    expect(mail.meta.attachments).toBe(1);
    expect(mail.structure.sections.some((s) => s.kind === 'attachment' && s.title === 'attachment requirements.csv')).toBe(true);

    const code = await read('server.ts');
    expect(code.meta.language).toBe('TypeScript');
    const script = await read('script');
    expect(script.meta.language).toBe('Python');

    const sql = await read('schema.sql');
    expect(sql.meta.tables).toEqual(['users']);
    expect(sql.meta.statementKinds).toEqual(['create', 'select']);

    const patch = await read('fix.patch');
    expect(patch.meta).toMatchObject({ files: 1, additions: 1, deletions: 1 });

    const png = await read('chart.png');
    expect(png.meta).toMatchObject({ width: 320, height: 200, format: 'png' });
    expect(png.mime).toBe('image/png');
    // every raster format of the README's image row (generated at 320×200) is read to its dimensions and type
    for (const [name, format] of [['photo.jpg', 'jpg'], ['anim.gif', 'gif'], ['banner.webp', 'webp'], ['hero.avif', 'avif'], ['scan.tiff', 'tiff'], ['icon.bmp', 'bmp']] as const) {
      const img = await read(name);
      expect([name, img.kind, img.meta.width, img.meta.height]).toEqual([name, 'image', 320, 200]);
      expect(img.mime).toMatch(new RegExp(`^image/(x-ms-)?${format === 'jpg' ? 'jpeg' : format}$`));
    }
    const heic = await read('phone.heic');
    expect(heic.mime).toBe('image/heic');
    expect(heic.meta.width).toBeGreaterThan(0);

    const svg = await read('diagram.svg');
    expect(svg.text).not.toContain('alert');
    expect(svg.warnings.join(' ')).toContain('scripts');

    const html = await read('page.html');
    expect(html.text).not.toContain('alert');
    expect(html.meta.title).toBe('Status');

    const env = await read('.env');
    expect(env.text).not.toContain('s3cr3t');
    expect(env.text).not.toContain('sk_live_abc123');
    expect(env.meta.masked).toBe(3);
  });

  it('trusts the content over the name', async () => {
    const png = samples.find((s) => s.name === 'chart.png')!;
    const r = await pool.extract(png.bytes, 'report.pdf');
    expect(r.kind).toBe('image');
    expect(r.warnings.join(' ')).toContain('named .pdf but its content is image/png');

    const csvNamedYaml = await pool.extract(new TextEncoder().encode('a,b\n1,2\n'), 'data.yaml');
    expect(csvNamedYaml.kind).toBe('yaml'); // a name suggesting YAML, content that parses as YAML scalars: YAML…
    const notToml = await pool.extract(new TextEncoder().encode('this is = = not toml [\n'), 'x.toml');
    expect(notToml.kind).toBe('text'); // …but a name never makes an unparsable file anything but text
    expect(notToml.warnings.join(' ')).toContain('read as plain text');
  });
});
