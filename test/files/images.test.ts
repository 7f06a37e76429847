// Images for vision models and OCR: resized and re-encoded within the bounds, metadata dropped, turned into an
// OpenAI-compatible image_url part and an Ollama images entry; HEIC decoded; SVG sanitised before rasterising; text
// in a screenshot read offline with the English data shipped on npm.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataUrl, sanitiseSvg, toOllamaImage, toOpenAiImagePart } from '../../agents/files/images';
import { FileParserPool } from '../../agents/files/pool';
import { bmp, fixture } from './samples';

let pool: FileParserPool;
beforeAll(() => {
  pool = new FileParserPool({ timeoutMs: 120_000 });
});
afterAll(() => pool.close());

describe('images for vision models', () => {
  it('shrinks a large photo to the longest side, as JPEG without its EXIF/GPS', async () => {
    const photo = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#336699' } })
      .withExif({ IFD0: { Make: 'Acme', Model: 'Phone 9' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 0/1' } })
      .jpeg().toBuffer();
    const r = await pool.extract(photo, 'IMG_0001.jpg', { ocr: false });
    expect(r.meta).toMatchObject({ width: 4000, height: 3000, camera: 'Acme Phone 9', gps: true });
    const img = await pool.prepareImage(photo, 'IMG_0001.jpg', { maxSide: 2048 });
    expect(img).toMatchObject({ mime: 'image/jpeg', width: 2048, height: 1536 });
    const meta = await sharp(img.data).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.exif).toBeUndefined();
    const part = toOpenAiImagePart(img, 'high');
    expect(part.type).toBe('image_url');
    expect(part.image_url.detail).toBe('high');
    expect(part.image_url.url.startsWith('data:image/jpeg;base64,')).toBe(true);
    expect(Buffer.from(part.image_url.url.split(',')[1]!, 'base64').equals(img.data)).toBe(true);
    expect(toOllamaImage(img)).toBe(img.data.toString('base64'));
    expect(dataUrl(img)).toBe(part.image_url.url);
  });

  it('keeps screenshots with transparency as PNG and never enlarges', async () => {
    const png = await sharp({ create: { width: 300, height: 120, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0.5 } } }).png().toBuffer();
    const img = await pool.prepareImage(png, 'shot.png');
    expect(img).toMatchObject({ mime: 'image/png', width: 300, height: 120 });
  });

  it('decodes BMP, which libvips cannot read, with its colours', async () => {
    const img = await pool.prepareImage(bmp(320, 200), 'icon.bmp', { maxSide: 160, format: 'png' });
    expect(img).toMatchObject({ mime: 'image/png', width: 160, height: 100 });
    const { data } = await sharp(img.data).raw().toBuffer({ resolveWithObject: true });
    expect([...data.subarray(0, 3)]).toEqual([30, 120, 200]); // written as B, G, R = 200, 120, 30
  });

  it('decodes HEIC (HEVC) photos, which libvips alone cannot', async () => {
    const img = await pool.prepareImage(fixture('sample.heic'), 'phone.heic', { maxSide: 512 });
    expect(img.mime).toBe('image/jpeg');
    expect(Math.max(img.width, img.height)).toBeLessThanOrEqual(512);
    expect((await sharp(img.data).metadata()).format).toBe('jpeg');
  });

  it('rasterises SVG only after removing scripts, handlers and outside references', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="50"><script>alert(1)</script><image xlink:href="file:///etc/passwd" width="10" height="10"/><rect onload="x()" width="100" height="50" fill="#f00"/></svg>';
    const clean = sanitiseSvg(svg);
    expect(clean).not.toMatch(/script|onload|file:/);
    const img = await pool.prepareImage(new TextEncoder().encode(svg), 'diagram.svg');
    expect(img).toMatchObject({ mime: 'image/png', width: 100, height: 50 });
  });
});

describe('OCR', () => {
  it('reads the text in a screenshot offline (tesseract.js with @tesseract.js-data/eng)', async () => {
    const r = await pool.extract(fixture('screenshot-text.png'), 'screenshot.png');
    expect(r.kind).toBe('image');
    expect(r.ocr && 'text' in r.ocr ? r.ocr.confidence : 0).toBeGreaterThan(50);
    expect(r.text).toContain('checkout service down');
    expect(r.text).toContain('4217');
  });

  it('says when OCR is off', async () => {
    const r = await pool.extract(fixture('screenshot-text.png'), 'screenshot.png', { ocr: false });
    expect(r.ocr).toEqual({ skipped: 'OCR is off' });
    expect(r.text).toBe('');
  });
});
