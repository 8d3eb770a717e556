// DNS-rebinding protection for the HTTP transport: the Host header must name an allowed host (a page on another
// origin that rebinds its name to our address still sends its own name), and an Origin header, when a browser
// sends one, must be allowed too, or be the server's own origin (same scheme-less host and port as the allowed
// Host: a rebinding page's origin carries its own name, which the Host check already refused). Non-browser
// clients (Claude Code) send no Origin. A refusal names what was refused and the setting to change, never the
// hosts or origins that are allowed.

export type HostCheck = { ok: true } | { ok: false; status: 403; error: string };

/** `example:8080` -> `example`, `[::1]:80` -> `::1`, lower-cased. */
export function hostName(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(h.slice(colon + 1)) ? h.slice(0, colon) : h;
}

/** A header value as shown in an error: at most 100 characters, nothing but printable ASCII. */
function shown(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 100 ? `${printable.slice(0, 100)}...` : printable;
}

/** The Origin names the host and port the request was sent to (the Host header): the server's own origin. */
function sameHost(origin: string, host: string): boolean {
  try {
    return new URL(origin).host === host.trim().toLowerCase();
  } catch {
    return false;
  }
}

export function checkHostAndOrigin(
  host: string | undefined,
  origin: string | undefined,
  allowedHosts: string[],
  allowedOrigins: string[],
): HostCheck {
  if (!host) return { ok: false, status: 403, error: 'missing Host header' };
  const name = hostName(host);
  if (!allowedHosts.map((h) => h.toLowerCase()).includes(name)) {
    return {
      ok: false,
      status: 403,
      error: `Host ${shown(name)} is not allowed: add it to the server's MCP_ALLOWED_HOSTS`,
    };
  }
  if (
    origin !== undefined &&
    !allowedOrigins.includes(origin.toLowerCase().replace(/\/$/, '')) &&
    !sameHost(origin, host)
  ) {
    return {
      ok: false,
      status: 403,
      error: `Origin ${shown(origin)} is not allowed: add it to the server's MCP_ALLOWED_ORIGINS`,
    };
  }
  return { ok: true };
}
