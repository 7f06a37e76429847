// One error class per way a shared file can fail to be read. Invariant: every message is a whole sentence a thread can
// show as is ("spec.pdf was skipped: it is password-protected"), built from the file's display name (control
// characters removed, length bounded); the edge still escapes it for its own markup. Callers decide with instanceof.
import { RolecallError } from '../errors';

/** A file name made safe to put in a sentence: no control or bidi characters, at most 120 characters. */
export function displayName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim();
  const base = clean.length > 0 ? clean : 'unnamed file';
  return base.length > 120 ? `${base.slice(0, 117)}...` : base;
}

/** Base of every file error: `reason` completes "<name> was skipped: ...". */
export abstract class FileError extends RolecallError {
  readonly fileName: string;
  constructor(fileName: string, readonly reason: string, options?: ErrorOptions) {
    super(`${displayName(fileName)} was skipped: ${reason}`, options);
    this.fileName = fileName;
  }
}

const mb = (n: number) => (n < 1024 * 1024 ? `${Math.ceil(n / 1024)} KB` : `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`);

export class FileTooLarge extends FileError {
  constructor(fileName: string, readonly bytes: number, readonly limitBytes: number) {
    super(fileName, `it is ${mb(bytes)}, above the ${mb(limitBytes)} limit`);
  }
}

export class EmptyFile extends FileError {
  constructor(fileName: string) {
    super(fileName, 'it is empty');
  }
}

export class UnsupportedFileType extends FileError {
  constructor(fileName: string, readonly detected: string) {
    super(fileName, `its type (${detected}) is not one Rolecall can read`);
  }
}

export class EncryptedFile extends FileError {
  constructor(fileName: string) {
    super(fileName, 'it is password-protected');
  }
}

export class CorruptFile extends FileError {
  constructor(fileName: string, readonly detail: string, options?: ErrorOptions) {
    super(fileName, `it could not be read (${detail.slice(0, 200)})`, options);
  }
}

export class ParseTimeout extends FileError {
  constructor(fileName: string, readonly timeoutMs: number) {
    super(fileName, `reading it took longer than ${Math.round(timeoutMs / 100) / 10} s`);
  }
}

/** An archive (or a zip-based document) that would expand far beyond its size or the limits. */
export class DecompressionBomb extends FileError {
  constructor(fileName: string, readonly detail: string) {
    super(fileName, `it expands far beyond its size (${detail})`);
  }
}

/** An archive entry whose path is absolute or climbs out of the archive (zip-slip). */
export class UnsafeArchivePath extends FileError {
  constructor(fileName: string, readonly entryPath: string) {
    super(fileName, `it holds an entry with an unsafe path (${displayName(entryPath).slice(0, 80)})`);
  }
}

/** Reading it needed more memory than a parser may use, or nests deeper than allowed. */
export class FileTooComplex extends FileError {
  constructor(fileName: string, readonly detail: string) {
    super(fileName, `it is too complex to read (${detail})`);
  }
}

/** A file error as plain data, to cross the worker-thread boundary. */
export interface FileErrorData {
  type: 'FileTooLarge' | 'EmptyFile' | 'UnsupportedFileType' | 'EncryptedFile' | 'CorruptFile' | 'ParseTimeout' | 'DecompressionBomb' | 'UnsafeArchivePath' | 'FileTooComplex';
  fileName: string;
  a?: string;
  n?: number;
  m?: number;
}

export function fileErrorData(e: FileError): FileErrorData {
  if (e instanceof FileTooLarge) return { type: 'FileTooLarge', fileName: e.fileName, n: e.bytes, m: e.limitBytes };
  if (e instanceof EmptyFile) return { type: 'EmptyFile', fileName: e.fileName };
  if (e instanceof UnsupportedFileType) return { type: 'UnsupportedFileType', fileName: e.fileName, a: e.detected };
  if (e instanceof EncryptedFile) return { type: 'EncryptedFile', fileName: e.fileName };
  if (e instanceof ParseTimeout) return { type: 'ParseTimeout', fileName: e.fileName, n: e.timeoutMs };
  if (e instanceof DecompressionBomb) return { type: 'DecompressionBomb', fileName: e.fileName, a: e.detail };
  if (e instanceof UnsafeArchivePath) return { type: 'UnsafeArchivePath', fileName: e.fileName, a: e.entryPath };
  if (e instanceof FileTooComplex) return { type: 'FileTooComplex', fileName: e.fileName, a: e.detail };
  return { type: 'CorruptFile', fileName: e.fileName, a: e instanceof CorruptFile ? e.detail : e.reason };
}

export function fileErrorFromData(d: FileErrorData): FileError {
  switch (d.type) {
    case 'FileTooLarge': return new FileTooLarge(d.fileName, d.n ?? 0, d.m ?? 0);
    case 'EmptyFile': return new EmptyFile(d.fileName);
    case 'UnsupportedFileType': return new UnsupportedFileType(d.fileName, d.a ?? 'unknown');
    case 'EncryptedFile': return new EncryptedFile(d.fileName);
    case 'ParseTimeout': return new ParseTimeout(d.fileName, d.n ?? 0);
    case 'DecompressionBomb': return new DecompressionBomb(d.fileName, d.a ?? '');
    case 'UnsafeArchivePath': return new UnsafeArchivePath(d.fileName, d.a ?? '');
    case 'FileTooComplex': return new FileTooComplex(d.fileName, d.a ?? '');
    case 'CorruptFile': return new CorruptFile(d.fileName, d.a ?? 'unknown error');
  }
}
