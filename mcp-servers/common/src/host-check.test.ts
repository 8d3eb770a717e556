import { describe, expect, it } from 'vitest';
import { checkHostAndOrigin, hostName } from './host-check.ts';

const hosts = ['localhost', '127.0.0.1', '::1', 'mcp-file-ops'];

describe('checkHostAndOrigin (DNS rebinding)', () => {
  it('accepts allowed hosts with or without port, no Origin (non-browser clients)', () => {
    for (const h of ['localhost', 'localhost:8080', '127.0.0.1:3000', '[::1]:8080', 'MCP-FILE-OPS:8080']) {
      expect(checkHostAndOrigin(h, undefined, hosts, []), h).toEqual({ ok: true });
    }
  });

  it('refuses a rebinding page: its own name in Host, or an Origin not allowed', () => {
    expect(checkHostAndOrigin('evil.example:8080', undefined, hosts, [])).toEqual({
      ok: false,
      status: 403,
      error: 'Host evil.example is not allowed (allowed: localhost, 127.0.0.1, ::1, mcp-file-ops)',
    });
    expect(checkHostAndOrigin('localhost:8080', 'http://evil.example', hosts, [])).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(checkHostAndOrigin(undefined, undefined, hosts, [])).toMatchObject({
      ok: false,
      error: 'missing Host header',
    });
    expect(checkHostAndOrigin('localhost.evil.example', undefined, hosts, [])).toMatchObject({ ok: false });
  });

  it('accepts an allowed Origin', () => {
    expect(
      checkHostAndOrigin('localhost:8080', 'http://localhost:6274/', hosts, ['http://localhost:6274']),
    ).toEqual({ ok: true });
  });

  it('parses host names', () => {
    expect(hostName('[::1]:80')).toBe('::1');
    expect(hostName('Example.COM:443')).toBe('example.com');
    expect(hostName('example')).toBe('example');
  });
});
