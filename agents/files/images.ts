// Images for vision models: decode (sharp/libvips; HEIC through libheif's wasm build, heic-decode, since libvips ships
// without an HEVC decoder; SVG sanitised and rasterised by librsvg), orient by EXIF, bound the size (longest side
// maxSide), re-encode (PNG for screenshots and drawings with transparency, JPEG otherwise) with all metadata dropped
// (no GPS leaves), and turn the result into an OpenAI-compatible `image_url` part or an Ollama `images` entry.
// Invariant: nothing is decoded past maxPixels (checked on the header before decoding).
import sharp, { type Metadata, type Sharp } from 'sharp';
import { imageSize } from 'image-size';
import { errorMessage } from '../errors';
import { CorruptFile, DecompressionBomb, UnsupportedFileType } from './errors';

export interface VisionImage {
  mime: 'image/jpeg' | 'image/png';
  data: Buffer;
  width: number;
  height: number;
}

export interface VisionOptions {
  /** Longest side after resizing (default 2048). */
  maxSide?: number;
  /** Largest accepted width × height of the input (default 100 million). */
  maxPixels?: number;
  /** Force an output format; by default PNG when the image has transparency or is a PNG/GIF/SVG, JPEG otherwise. */
  format?: 'jpeg' | 'png';
  jpegQuality?: number;
}

/** Image header dimensions (all common formats, HEIC included), or undefined when the header is not understood. */
export function headerSize(bytes: Uint8Array): { width: number; height: number; type: string } | undefined {
  try {
    const s = imageSize(bytes);
    return s.width && s.height ? { width: s.width, height: s.height, type: s.type ?? 'image' } : undefined;
  } catch {
    return undefined;
  }
}

const isHeif = (bytes: Uint8Array) => /^(heic|heix|hevc|hevx|mif1|msf1)$/.test(Buffer.from(bytes.subarray(8, 12)).toString('latin1'));
const isSvg = (bytes: Uint8Array) => /<svg[\s>]/i.test(Buffer.from(bytes.subarray(0, 4096)).toString('utf8'));

/** An SVG without scripts, event handlers, foreign HTML or references to anything outside itself. */
export function sanitiseSvg(svg: string): string {
  return svg
    .replace(/<!DOCTYPE[^>[]*(\[[\s\S]*?\])?\s*>/gi, '')
    .replace(/<script[\s\S]*?<\/script\s*>|<script[^>]*\/>/gi, '')
    .replace(/<foreignObject[\s\S]*?<\/foreignObject\s*>/gi, '')
    .replace(/\son[a-z]+\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi, '')
    .replace(/\s(xlink:)?href\s*=\s*("(?!#|data:image\/)[^"]*"|'(?!#|data:image\/)[^']*')/gi, '');
}

/** A sharp pipeline for any supported image (HEIC decoded first), bounded by maxPixels. */
export async function openImage(bytes: Uint8Array, name: string, maxPixels: number): Promise<Sharp> {
  if (isSvg(bytes)) {
    const clean = Buffer.from(sanitiseSvg(Buffer.from(bytes).toString('utf8')));
    return sharp(clean, { limitInputPixels: maxPixels });
  }
  const size = headerSize(bytes);
  if (size && size.width * size.height > maxPixels) throw new DecompressionBomb(name, `${size.width}×${size.height} pixels`);
  if (size?.type === 'bmp') {
    // libvips (in sharp) reads no BMP: bmp-js (tesseract.js's own BMP reader) decodes it, the header bounded above
    try {
      const { decode } = await import('bmp-js');
      const bmp = decode(Buffer.from(bytes));
      const width = bmp.width, height = Math.abs(bmp.height);
      const rgb = Buffer.alloc(width * height * 3);
      for (let p = 0, q = 0; q < rgb.length; p += 4, q += 3) {
        rgb[q] = bmp.data[p + 3]!;
        rgb[q + 1] = bmp.data[p + 2]!;
        rgb[q + 2] = bmp.data[p + 1]!;
      }
      return sharp(rgb, { raw: { width, height, channels: 3 }, limitInputPixels: maxPixels });
    } catch (e) {
      throw new CorruptFile(name, `BMP: ${errorMessage(e)}`);
    }
  }
  if (isHeif(bytes) && size?.type !== 'avif') {
    try {
      const { default: decode } = await import('heic-decode');
      const img = await decode({ buffer: new Uint8Array(bytes) });
      return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: 4 }, limitInputPixels: maxPixels });
    } catch (e) {
      throw new CorruptFile(name, `HEIC: ${errorMessage(e)}`);
    }
  }
  return sharp(Buffer.from(bytes), { limitInputPixels: maxPixels, failOn: 'error' });
}

/** Resizes and re-encodes an image for a vision model. */
export async function prepareImageForVision(bytes: Uint8Array, name: string, options: VisionOptions = {}): Promise<VisionImage> {
  const maxSide = options.maxSide ?? 2048;
  const image = await openImage(bytes, name, options.maxPixels ?? 100_000_000);
  let meta: Metadata;
  try {
    meta = await image.metadata();
  } catch (e) {
    throw new UnsupportedFileType(name, `an image that cannot be decoded (${errorMessage(e).slice(0, 80)})`);
  }
  // HEIC arrives decoded as RGBA (opaque): a photo, so JPEG.
  const png = options.format ? options.format === 'png' : !isHeif(bytes) && (meta.hasAlpha || ['png', 'gif', 'svg'].includes(meta.format ?? ''));
  try {
    const pipeline = image.rotate().resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true });
    const { data, info } = await (png ? pipeline.png({ compressionLevel: 9, palette: false }) : pipeline.flatten({ background: '#ffffff' }).jpeg({ quality: options.jpegQuality ?? 85, mozjpeg: true })).toBuffer({ resolveWithObject: true });
    return { mime: png ? 'image/png' : 'image/jpeg', data, width: info.width, height: info.height };
  } catch (e) {
    throw new CorruptFile(name, errorMessage(e));
  }
}

/** The image as a data URL. */
export const dataUrl = (img: VisionImage) => `data:${img.mime};base64,${img.data.toString('base64')}`;

/** An OpenAI-compatible chat content part (`messages[].content[]`). */
export function toOpenAiImagePart(img: VisionImage, detail: 'auto' | 'low' | 'high' = 'auto') {
  return { type: 'image_url' as const, image_url: { url: dataUrl(img), detail } };
}

/** An entry of an Ollama chat message's `images` array (plain base64, no data-URL prefix). */
export const toOllamaImage = (img: VisionImage): string => img.data.toString('base64');
