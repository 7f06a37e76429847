// Writes the Teams app icons (color.png 192x192, outline.png 32x32, white on transparent) with zlib only.
// Run: node bot/teams/make-icons.mjs
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
};

function png(size, pixel) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) row.set(pixel(x / size, y / size), 1 + x * 4);
    rows.push(row);
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

// A speech bubble with three "role" dots.
const inBubble = (u, v) => (u - 0.5) ** 2 / 0.16 + (v - 0.45) ** 2 / 0.1 <= 1 || (u > 0.28 && u < 0.42 && v > 0.6 && v < 0.8 - (u - 0.28));
const inDot = (u, v) => [0.33, 0.5, 0.67].some((cx) => (u - cx) ** 2 + (v - 0.45) ** 2 < 0.0035);

const dir = new URL('.', import.meta.url);
writeFileSync(new URL('color.png', dir), png(192, (u, v) => (inBubble(u, v) && !inDot(u, v) ? [255, 255, 255, 255] : inDot(u, v) ? [70, 71, 117, 255] : [70, 71, 117, 255])));
writeFileSync(new URL('outline.png', dir), png(32, (u, v) => (inBubble(u, v) && !inDot(u, v) ? [255, 255, 255, 255] : [0, 0, 0, 0])));
