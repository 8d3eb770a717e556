// edit_file's rules: how many edits a call may make and how large they may be, checked before the file is read,
// then each edit applied to the text in order (its oldText must occur exactly once). The work is bounded: at most
// MAX_EDITS edits of at most the write limit in all, each one scan of a text of at most (read limit + write limit)
// characters; the result's size is checked against the write limit before any diff is built.
import { RuleError } from '@claude-code-telemetry/mcp-common/tool-result';

export type EditRule = 'too-many-edits' | 'too-large' | 'edit-not-found' | 'edit-ambiguous';

export class EditRuleError extends RuleError<EditRule> {}

/** More edits than a call needs: a larger change is a write_file. */
export const MAX_EDITS = 100;

export interface Edit {
  oldText: string;
  newText: string;
}

/** Refuses more than MAX_EDITS edits, or edits whose oldText and newText come to more than `maxBytes` bytes. */
export function checkEdits(edits: readonly Edit[], maxBytes: number): void {
  if (edits.length > MAX_EDITS) {
    throw new EditRuleError(
      'too-many-edits',
      `${edits.length} edits, over the limit of ${MAX_EDITS} per call (use write_file for a larger change)`,
    );
  }
  let bytes = 0;
  for (const e of edits) bytes += Buffer.byteLength(e.oldText, 'utf8') + Buffer.byteLength(e.newText, 'utf8');
  if (bytes > maxBytes) {
    throw new EditRuleError(
      'too-large',
      `the edits are ${bytes} bytes (oldText + newText), over the write limit of ${maxBytes} bytes`,
    );
  }
}

/**
 * The text after every edit, in order, each on the result of the ones before; `name` names the file in errors.
 * The result must fit the write limit, or nothing is returned.
 */
export function applyEdits(content: string, edits: readonly Edit[], name: string, maxBytes: number): string {
  checkEdits(edits, maxBytes);
  let next = content;
  edits.forEach((edit, i) => {
    const first = edit.oldText === '' ? -1 : next.indexOf(edit.oldText);
    if (first < 0) throw new EditRuleError('edit-not-found', `edit ${i + 1}: oldText not found in ${name}`);
    // From the next character, so overlapping occurrences (`aa` in `aaa`) count as two.
    if (next.indexOf(edit.oldText, first + 1) >= 0) {
      throw new EditRuleError(
        'edit-ambiguous',
        `edit ${i + 1}: oldText occurs more than once in ${name}; add context`,
      );
    }
    next = next.slice(0, first) + edit.newText + next.slice(first + edit.oldText.length);
  });
  const bytes = Buffer.byteLength(next, 'utf8');
  if (bytes > maxBytes) {
    throw new EditRuleError(
      'too-large',
      `${name} would be ${bytes} bytes after the edits, over the write limit of ${maxBytes} bytes`,
    );
  }
  return next;
}
