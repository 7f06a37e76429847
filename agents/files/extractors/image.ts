// Raster images (PNG, JPEG, GIF, WebP, HEIC, AVIF, BMP, TIFF): dimensions (image-size on the header, sharp for
// frames), EXIF facts (exifr: camera, date, software; a GPS position is only noted as present) and, when OCR is on,
// the text in the image (ocr.ts). Invariant: a header beyond maxImagePixels is refused before any decoding.
import exifr from 'exifr';
import { errorMessage } from '../../errors';
import { DecompressionBomb, UnsupportedFileType } from '../errors';
import { headerSize, openImage } from '../images';
import { recognise } from '../ocr';
import type { FileExtraction, FileMeta, FileSection } from '../types';
import type { Extractor } from './context';

export const extractImage: Extractor = async ({ bytes, name }, ctx) => {
  const size = headerSize(bytes);
  if (!size) throw new UnsupportedFileType(name, 'an image whose header cannot be read');
  if (size.width * size.height > ctx.limits.maxImagePixels) throw new DecompressionBomb(name, `${size.width}×${size.height} pixels`);
  const meta: FileMeta = { width: size.width, height: size.height, format: size.type };
  const image = await openImage(bytes, name, ctx.limits.maxImagePixels);
  try {
    const m = await image.metadata();
    if (m.pages && m.pages > 1) meta.frames = m.pages;
  } catch (e) {
    throw new UnsupportedFileType(name, `an image that cannot be decoded (${errorMessage(e).slice(0, 80)})`);
  }
  try {
    const exif = (await exifr.parse(Buffer.from(bytes), { tiff: true, exif: true, gps: true, xmp: false, icc: false, iptc: false })) as Record<string, unknown> | undefined;
    if (exif) {
      const camera = [exif.Make, exif.Model].filter((v) => typeof v === 'string').join(' ').trim();
      if (camera) meta.camera = camera;
      const taken = exif.DateTimeOriginal ?? exif.CreateDate;
      if (taken instanceof Date) meta.taken = taken.toISOString();
      if (typeof exif.Software === 'string') meta.software = exif.Software;
      if (exif.latitude !== undefined || exif.GPSLatitude !== undefined) meta.gps = true;
    }
  } catch {
    // No readable EXIF block: nothing to add.
  }
  const sections: FileSection[] = [];
  let ocr: FileExtraction['ocr'] = { skipped: 'OCR is off' };
  if (ctx.limits.ocr) {
    try {
      const prepared = await (await openImage(bytes, name, ctx.limits.maxImagePixels)).rotate().resize({ width: 2500, height: 2500, fit: 'inside', withoutEnlargement: true }).flatten({ background: '#ffffff' }).greyscale().png().toBuffer();
      const r = await recognise(prepared);
      ocr = r;
      if (r.text && r.confidence >= 30) sections.push({ kind: 'body', title: 'Text in the image (OCR)', text: r.text });
      else ocr = { skipped: r.text ? `OCR found text with low confidence (${r.confidence})` : 'OCR found no text' };
    } catch (e) {
      ocr = { skipped: `OCR failed: ${errorMessage(e).slice(0, 120)}` };
      ctx.warnings.push(ocr.skipped);
    }
  }
  return { sections, meta, ocr };
};
