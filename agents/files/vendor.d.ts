// Types for the few file parsers that ship none: only what agents/files uses.
declare module 'word-extractor' {
  interface WordDocument {
    getBody(): string;
    getFootnotes(): string;
    getEndnotes(): string;
    getHeaders(options?: { includeFooters?: boolean }): string;
    getAnnotations(): string;
  }
  export default class WordExtractor {
    extract(source: Buffer | string): Promise<WordDocument>;
  }
}

declare module 'rtf-parser' {
  const parse: { string(source: string, cb: (err: unknown, doc: unknown) => void): void };
  export default parse;
}

declare module 'heic-decode' {
  export default function decode(input: { buffer: Uint8Array }): Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
}

declare module 'bmp-js' {
  /** Pixels as A, B, G, R bytes (alpha 0 unless asked for), rows top first. */
  export function decode(buffer: Buffer, withAlpha?: boolean): { width: number; height: number; data: Buffer };
}
