// Quick mode, shared by every benchmark (`pnpm bench NAME --quick`): small sizes, seconds not minutes, the same
// code path and the same checks, so CI can run each benchmark on every change (.ci/run, phase bench-quick) and a
// lost request or a wrong count fails it. Its figures are noise from tiny sizes on a busy machine: they are never
// quoted as results, its goals are not judged (a missed goal does not fail it, a failed check does), and its
// output says so, first and last.

export const QUICK_NOTICE = 'quick mode: not a measurement';

/** The line a quick run prints first and last, with the sizes it chose. */
export const quickBanner = (sizes: string): string =>
  `bench: ${QUICK_NOTICE} (${sizes}; the full run's checks, goals not judged)`;

/**
 * A benchmark's verdict on its goal: judged in a full run ('met' / 'NOT met'), only shown in a quick one.
 * `failsRun`: whether a missed goal makes the run fail.
 */
export function goalVerdict(met: boolean, quick: boolean): { text: string; failsRun: boolean } {
  if (quick) return { text: `not judged (${QUICK_NOTICE})`, failsRun: false };
  return { text: met ? 'met' : 'NOT met', failsRun: !met };
}

/** `--quick` given (zx's argv: `--quick`, `--quick=true`); `--no-quick` or absent: false. */
export const isQuick = (argv: Record<string, unknown>): boolean =>
  argv.quick === true || argv.quick === 'true';

/** An option's value: the one given, else the quick or the full default. */
export const sized = (
  given: unknown,
  quick: boolean,
  full: string | number,
  small: string | number,
): string => String(given ?? (quick ? small : full));
