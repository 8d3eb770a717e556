import { describe, expect, it } from 'vitest';
import {
  archiveObject,
  isS3Url,
  parseS3Object,
  parseS3Prefix,
  S3TargetError,
  s3Settings,
  s3Url,
  withoutKeys,
} from './s3-target.ts';

const ID = 'AKIDEXAMPLE12345';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('parseS3Prefix (--to, list --from)', () => {
  it('takes a bucket and an optional prefix, which then ends in /', () => {
    expect(parseS3Prefix('s3://archives')).toEqual({ bucket: 'archives', key: '' });
    expect(parseS3Prefix('s3://archives/')).toEqual({ bucket: 'archives', key: '' });
    expect(parseS3Prefix('s3://archives/team-a')).toEqual({ bucket: 'archives', key: 'team-a/' });
    expect(parseS3Prefix('s3://archives/team-a/2026/')).toEqual({ bucket: 'archives', key: 'team-a/2026/' });
    expect(parseS3Prefix('s3://my.bucket-1/a_b.c')).toEqual({ bucket: 'my.bucket-1', key: 'a_b.c/' });
  });

  it('refuses what is not an s3:// URL', () => {
    for (const bad of ['archives/x', 'S3:/archives', 'https://archives/x', '/tmp/x', 'archives', ''])
      expect(() => parseS3Prefix(bad), bad).toThrow(/is not an S3 URL: s3:\/\/BUCKET\/PREFIX/);
  });

  it('refuses bucket names S3 refuses, saying the rule', () => {
    for (const bad of [
      's3://ab',
      's3://Archives',
      's3://-archives',
      's3://archives-',
      's3://arch..ives',
      's3://arch_ives',
      's3://192.168.1.10',
      `s3://${'a'.repeat(64)}`,
      's3://',
      's3:///x',
    ])
      expect(() => parseS3Prefix(bad), bad).toThrow(
        /the bucket must be 3-63 lowercase letters, digits, \. and -/,
      );
    expect(parseS3Prefix(`s3://${'a'.repeat(63)}`).bucket).toHaveLength(63);
  });

  it('refuses keys that are no safe path: empty, . or .. segments, other characters, over 1024 bytes', () => {
    for (const bad of [
      's3://archives//x',
      's3://archives/a//b',
      's3://archives/../x',
      's3://archives/a/./b',
      's3://archives/a b',
      's3://archives/a?b=1',
      's3://archives/a#b',
      's3://archives/a\\b',
      's3://archives/a\nb',
      's3://archives/é',
      `s3://archives/${'a'.repeat(1025)}`,
    ])
      expect(() => parseS3Prefix(bad), JSON.stringify(bad)).toThrow(S3TargetError);
    expect(() => parseS3Prefix('s3://archives/a b')).toThrow(/the key must be letters, digits and/);
    expect(parseS3Prefix(`s3://archives/${'a'.repeat(1023)}`).key).toHaveLength(1024);
  });
});

describe('parseS3Object (verify)', () => {
  it('takes one object: a key that does not end in /', () => {
    expect(parseS3Object('s3://archives/team/a.tar.gz')).toEqual({
      bucket: 'archives',
      key: 'team/a.tar.gz',
    });
    for (const bad of ['s3://archives', 's3://archives/', 's3://archives/team/'])
      expect(() => parseS3Object(bad), bad).toThrow(/name one archive, s3:\/\/BUCKET\/KEY/);
    expect(() => parseS3Object('s3://archives/../a.tar.gz')).toThrow(/the key must be/);
  });

  it('is told apart from a local archive, and round-trips', () => {
    expect(isS3Url('s3://a/b')).toBe(true);
    expect(isS3Url('exports/a.tar.gz')).toBe(false);
    expect(s3Url(archiveObject(parseS3Prefix('s3://archives/team'), 'x.tar.gz'))).toBe(
      's3://archives/team/x.tar.gz',
    );
    expect(s3Url(archiveObject(parseS3Prefix('s3://archives'), 'x.tar.gz'))).toBe('s3://archives/x.tar.gz');
  });
});

describe('s3Settings', () => {
  const keys = { S3_ACCESS_KEY_ID: ID, S3_SECRET_ACCESS_KEY: SECRET };

  it("defaults to the local stack's s3-gateway when stack/.env.local has its keys", () => {
    expect(s3Settings({}, keys)).toEqual({
      endpoint: 'http://127.0.0.1:7070',
      endpointFrom: "the local stack's s3-gateway (pnpm stack:up --scaled; S3_ENDPOINT for another)",
      region: 'us-east-1',
      accessKeyId: ID,
      secretAccessKey: SECRET,
      keysFrom: 'stack/.env.local',
    });
    expect(s3Settings({ S3_GATEWAY_PORT: '17070' }, keys).endpoint).toBe('http://127.0.0.1:17070');
    expect(s3Settings({}, { ...keys, S3_GATEWAY_PORT: '27070' }).endpoint).toBe('http://127.0.0.1:27070');
    expect(() => s3Settings({ S3_GATEWAY_PORT: '70700' }, keys)).toThrow(
      /S3_GATEWAY_PORT must be a port number/,
    );
  });

  it('takes the environment first, for the endpoint, the keys (as a pair) and the region', () => {
    const s = s3Settings(
      {
        S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com/',
        S3_ACCESS_KEY_ID: 'AKIDFROMSHELL',
        S3_SECRET_ACCESS_KEY: 'shell-secret-value',
        S3_REGION: 'eu-west-1',
      },
      keys,
    );
    expect(s).toMatchObject({
      endpoint: 'https://s3.eu-west-1.amazonaws.com',
      endpointFrom: 'S3_ENDPOINT (the environment)',
      region: 'eu-west-1',
      accessKeyId: 'AKIDFROMSHELL',
      secretAccessKey: 'shell-secret-value',
      keysFrom: 'the environment',
    });
    // Keys from the environment, endpoint from the file.
    expect(s3Settings({ ...keys }, { S3_ENDPOINT: 'http://minio.local:9000' })).toMatchObject({
      endpoint: 'http://minio.local:9000',
      endpointFrom: 'S3_ENDPOINT (stack/.env.local)',
      keysFrom: 'the environment',
    });
  });

  it('refuses half a pair, naming the variable and the place, never the value', () => {
    const e = () => s3Settings({ S3_ACCESS_KEY_ID: ID }, keys);
    expect(e).toThrow('the environment has S3_ACCESS_KEY_ID but not S3_SECRET_ACCESS_KEY: set both');
    expect(() => s3Settings({}, { S3_SECRET_ACCESS_KEY: SECRET })).toThrow(
      'stack/.env.local has S3_SECRET_ACCESS_KEY but not S3_ACCESS_KEY_ID: set both',
    );
    for (const [env, local] of [
      [{ S3_ACCESS_KEY_ID: ID }, keys],
      [{}, { S3_SECRET_ACCESS_KEY: SECRET }],
    ] as const) {
      try {
        s3Settings(env, local);
      } catch (err) {
        expect((err as Error).message).not.toContain(ID);
        expect((err as Error).message).not.toContain(SECRET);
      }
    }
  });

  it('says what to set when there are no keys, or no endpoint', () => {
    expect(() => s3Settings({}, {})).toThrow(
      /no S3 keys: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY in the environment/,
    );
    expect(() => s3Settings(keys, {})).toThrow(/no S3 endpoint: set S3_ENDPOINT/);
  });

  it('takes an endpoint only as an origin: http(s), no credentials, no path or query', () => {
    const at = (S3_ENDPOINT: string) => () => s3Settings({ ...keys, S3_ENDPOINT }, {});
    expect(at('not a url')).toThrow('S3_ENDPOINT must be a URL, http(s)://HOST[:PORT] (it is not one)');
    expect(at('ftp://host')).toThrow('S3_ENDPOINT must be http(s)://HOST[:PORT], not ftp://...');
    expect(at(`http://${ID}:${encodeURIComponent(SECRET)}@host:9000`)).toThrow(
      'S3_ENDPOINT must not hold credentials: use S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY',
    );
    expect(at('http://host:9000/bucket')).toThrow(/without a path or query/);
    expect(at('http://host:9000/?x=1')).toThrow(/without a path or query/);
    expect(s3Settings({ ...keys, S3_ENDPOINT: 'HTTP://Host:9000' }, {}).endpoint).toBe('http://host:9000');
  });

  it('refuses a region that is no region name', () => {
    expect(() => s3Settings({ S3_REGION: 'EU West' }, keys)).toThrow(
      /S3_REGION must be a region name such as us-east-1/,
    );
  });
});

describe('withoutKeys', () => {
  it('removes both keys wherever they appear', () => {
    expect(
      withoutKeys(`id ${ID} secret ${SECRET} again ${SECRET}`, { accessKeyId: ID, secretAccessKey: SECRET }),
    ).toBe('id [redacted] secret [redacted] again [redacted]');
    expect(withoutKeys('nothing here', { accessKeyId: '', secretAccessKey: '' })).toBe('nothing here');
  });
});
