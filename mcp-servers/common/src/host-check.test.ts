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
      error: "Host evil.example is not allowed: add it to the server's MCP_ALLOWED_HOSTS",
    });
    expect(checkHostAndOrigin('localhost:8080', 'http://evil.example', hosts, [])).toEqual({
      ok: false,
      status: 403,
      error: "Origin http://evil.example is not allowed: add it to the server's MCP_ALLOWED_ORIGINS",
    });
    expect(checkHostAndOrigin(undefined, undefined, hosts, [])).toMatchObject({
      ok: false,
      error: 'missing Host header',
    });
    expect(checkHostAndOrigin('localhost.evil.example', undefined, hosts, [])).toMatchObject({ ok: false });
  });

  it('never lists the allowed hosts or origins, and shows a hostile value cut and printable', () => {
    const allowedOrigins = ['http://localhost:6274'];
    for (const r of [
      checkHostAndOrigin('evil.example', undefined, hosts, allowedOrigins),
      checkHostAndOrigin('localhost', 'http://evil.example', hosts, allowedOrigins),
    ]) {
      expect(r.ok).toBe(false);
      const error = (r as { error: string }).error;
      for (const allowed of [...hosts, ...allowedOrigins]) expect(error).not.toContain(allowed);
    }
    const long = checkHostAndOrigin('localhost', `http://${'a'.repeat(500)}\u0000x`, hosts, []);
    expect((long as { error: string }).error).toBe(
      `Origin http://${'a'.repeat(93)}... is not allowed: add it to the server's MCP_ALLOWED_ORIGINS`,
    );
  });

  it("accepts the server's own origin (same host and port as the allowed Host), and no other", () => {
    expect(checkHostAndOrigin('localhost:8080', 'http://localhost:8080', hosts, [])).toEqual({ ok: true });
    expect(checkHostAndOrigin('127.0.0.1:3000', 'http://127.0.0.1:3000/', hosts, [])).toEqual({ ok: true });
    expect(checkHostAndOrigin('localhost:8080', 'http://localhost:9999', hosts, [])).toMatchObject({
      ok: false,
    });
    expect(checkHostAndOrigin('localhost:8080', 'null', hosts, [])).toMatchObject({ ok: false });
    // A rebinding page's origin matches its Host, which is refused first.
    expect(checkHostAndOrigin('evil.example:8080', 'http://evil.example:8080', hosts, [])).toMatchObject({
      ok: false,
      error: "Host evil.example is not allowed: add it to the server's MCP_ALLOWED_HOSTS",
    });
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
