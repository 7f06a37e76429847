// The file settings of app/config.ts: FILES_DIR under DATA_DIR by default, FILES_MAX_MB as bytes, an S3 store only
// with a bucket and both keys, and every bad file variable named.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../app/config';

describe('file settings', () => {
  it('default to a local directory under DATA_DIR and 25 MB', () => {
    expect(loadConfig({}).files).toEqual({ store: { kind: 'local', dir: '.data/files' }, maxBytes: 25 * 1024 * 1024 });
    expect(loadConfig({ DATA_DIR: '/srv/rc', FILES_MAX_MB: '2.5' }).files).toEqual({ store: { kind: 'local', dir: '/srv/rc/files' }, maxBytes: 2.5 * 1024 * 1024 });
    expect(loadConfig({ FILES_DIR: '/mnt/files' }).files.store).toEqual({ kind: 'local', dir: '/mnt/files' });
  });

  it('use an S3-compatible bucket when S3_BUCKET and both keys are set', () => {
    const c = loadConfig({ S3_BUCKET: 'rc', S3_ENDPOINT: 'http://minio:9000', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 'secret12' });
    expect(c.files.store).toEqual({ kind: 's3', bucket: 'rc', endpoint: 'http://minio:9000', region: 'us-east-1', accessKeyId: 'k', secretAccessKey: 'secret12' });
  });

  it.each([
    [{ FILES_MAX_MB: '0' }, 'FILES_MAX_MB'],
    [{ FILES_MAX_MB: 'lots' }, 'FILES_MAX_MB'],
    [{ S3_BUCKET: 'rc', S3_ACCESS_KEY_ID: 'k' }, 'S3_SECRET_ACCESS_KEY'],
    [{ S3_BUCKET: 'rc', S3_SECRET_ACCESS_KEY: 's' }, 'S3_ACCESS_KEY_ID'],
    [{ S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's' }, 'S3_BUCKET'],
    [{ S3_BUCKET: 'rc', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's', S3_ENDPOINT: 'minio:9000' }, 'S3_ENDPOINT'],
  ])('names the bad variable: %o', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`\\b${variable}:`));
  });
});
