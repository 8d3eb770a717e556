// Squid's Basic auth helper for the egress proxy (squid.conf: auth_param basic program ...auth-helper.sh): reads
// requests on stdin, one a line, and answers each on stdout in order (auth-answer.ts decides). It must never die:
// Squid restarts dead helpers but gives up (FATAL, every session's egress gone) when they die too fast, so lines
// are bounded (byte-lines.ts), every answer is computed inside a guard, and a stray exception is reported and
// survived. It exits only when Squid closes its stdin. Reasons go to stderr (Squid's cache log), never passwords.
import { type AuthContext, answerAuthRequest, MAX_REQUEST_BYTES } from './auth-answer.ts';
import { type Line, lineSplitter } from './byte-lines.ts';

const say = (line: string) => process.stderr.write(`egress auth helper: ${line}\n`);
process.on('uncaughtException', (err) => say(`survived an unexpected error: ${err?.name ?? 'unknown'}`));
process.on('unhandledRejection', () => say('survived an unexpected rejection'));
// A closed stdout (Squid gone) must not become an exception loop: end quietly.
process.stdout.on('error', () => process.exit(0));

const ctx: AuthContext = {
  secret: process.env.MCP_SESSION_SECRET,
  ...(process.env.SESSION_REVOKED_DIR ? { revokedDir: process.env.SESSION_REVOKED_DIR } : {}),
};
if (!ctx.secret) say('MCP_SESSION_SECRET is not set: every request is refused');

const answer = (line: Line) => {
  let reply: string;
  try {
    reply = answerAuthRequest(line, ctx);
  } catch {
    reply = 'ERR message="internal error"';
  }
  if (reply.includes(' ERR ') || reply.startsWith('ERR ')) say(reply.replace(/^\d+ /, ''));
  process.stdout.write(`${reply}\n`);
};

const lines = lineSplitter(MAX_REQUEST_BYTES);
process.stdin.on('data', (chunk: Buffer) => {
  for (const line of lines.push(chunk)) answer(line);
});
process.stdin.on('end', () => {
  const last = lines.end();
  if (last) answer(last);
  process.exit(0);
});
process.stdin.on('error', () => process.exit(0));
