// search_files name patterns: `*` any run of characters, `?` one character, anything else itself, compared
// case-insensitively with an entry's name. The matcher is a two-pointer scan that only ever goes back to the last
// `*` it passed, so a name takes at most (pattern length x name length) steps whatever the pattern; a regular
// expression built from `*a*a*a*...` backtracks exponentially and, running on the event loop, stalls the server.
// Patterns are bounded too, and a pattern over a bound is refused naming it.
import { RuleError } from '@claude-code-telemetry/mcp-common/tool-result';

export type GlobRule = 'pattern-too-long' | 'too-many-wildcards' | 'bad-pattern';

export class GlobRuleError extends RuleError<GlobRule> {}

/** A file name is at most 255 bytes on the usual file systems: a longer pattern matches nothing useful. */
export const MAX_PATTERN_LENGTH = 255;
/** More `*` than any real name pattern needs (runs of `*` count once). */
export const MAX_WILDCARDS = 32;

/** Validates a pattern and returns its matcher, or throws a GlobRuleError naming the bound. */
export function compileGlob(pattern: string): (name: string) => boolean {
  const chars = [...pattern.toLowerCase()];
  if (chars.length === 0) throw new GlobRuleError('bad-pattern', 'the pattern is empty');
  if (chars.length > MAX_PATTERN_LENGTH) {
    throw new GlobRuleError(
      'pattern-too-long',
      `the pattern is ${chars.length} characters, over the limit of ${MAX_PATTERN_LENGTH}`,
    );
  }
  if (pattern.includes('/') || pattern.includes('\0')) {
    throw new GlobRuleError(
      'bad-pattern',
      'the pattern matches names, not paths: it may not contain / or a null byte (pass the folder as path)',
    );
  }
  // `**` matches what `*` matches: collapse runs so they neither count twice nor cost twice.
  const p = chars.filter((c, i) => !(c === '*' && chars[i - 1] === '*'));
  const stars = p.filter((c) => c === '*').length;
  if (stars > MAX_WILDCARDS) {
    throw new GlobRuleError(
      'too-many-wildcards',
      `the pattern has ${stars} * wildcards, over the limit of ${MAX_WILDCARDS}`,
    );
  }
  return (name) => wildcardMatch(p, [...name.toLowerCase()]);
}

/** Greedy wildcard match: on a mismatch, let the last `*` swallow one more character and retry from there. */
export function wildcardMatch(p: readonly string[], s: readonly string[]): boolean {
  let pi = 0;
  let si = 0;
  let star = -1; // index in p of the last `*` passed
  let resume = 0; // index in s where that `*` would resume
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || (p[pi] !== '*' && p[pi] === s[si]))) {
      pi++;
      si++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      resume = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++resume;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
