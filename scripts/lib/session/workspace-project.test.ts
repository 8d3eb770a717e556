import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  branchOfHead,
  GIT_CONFIG_MAX_BYTES,
  originUrl,
  projectOfUrl,
  readWorkspaceGit,
  sessionLabels,
} from './workspace-project.ts';

const root = mkdtempSync(join(tmpdir(), 'workspace-project-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A workspace with a .git folder holding `files` (name -> content). */
function workspace(files: Record<string, string> = {}): string {
  const dir = join(root, `w${n++}`);
  mkdirSync(join(dir, '.git'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, '.git', name), text);
  return dir;
}
const config = (url: string) => `[core]\n\tbare = false\n[remote "origin"]\n\turl = ${url}\n`;

describe('a remote URL as a project', () => {
  it.each([
    ['https://github.com/acme/widgets.git', 'acme/widgets'],
    ['https://github.com/acme/widgets', 'acme/widgets'],
    ['https://user:s3cret@git.example.org/acme/widgets.git/', 'acme/widgets'],
    ['ssh://git@github.com:22/acme/widgets.git', 'acme/widgets'],
    ['git@github.com:acme/widgets.git', 'acme/widgets'],
    ['gitlab.example.org:group/sub/repo', 'group/sub/repo'],
  ])('%s is %s (no user, password or host kept)', (url, project) => {
    expect(projectOfUrl(url)).toEqual({ project });
  });

  it.each([
    ['/srv/git/widgets.git', /local path/],
    ['file:///srv/git/widgets', /scheme "file"/],
    ['ext::sh%20-c%20touch', /no project name/],
    ['https://github.com/acme/wid gets', /space/],
    ['https://github.com/acme/x";drop', /no project name/],
    ['https://github.com/../../etc/passwd', /no project name/],
    ['https://github.com/', /names no repository/],
    [`https://github.com/${'a'.repeat(300)}`, /no project name/],
  ])('%s gives no project (%s)', (url, why) => {
    const r = projectOfUrl(url);
    expect(r.project).toBeUndefined();
    expect(r.why).toMatch(why);
  });
});

describe("a git config's origin url", () => {
  it('reads git syntax: case, quotes, comments, other remotes and sections', () => {
    const text = [
      '# a comment',
      '[remote "upstream"]',
      '\turl = https://github.com/other/repo',
      '[REMOTE "origin"]',
      '\tfetch = +refs/heads/*:refs/remotes/origin/*',
      '\tURL = "git@github.com:acme/widgets.git" ; trailing comment',
      '[branch "main"]',
      '\turl = https://github.com/wrong/one',
    ].join('\n');
    expect(originUrl(text)).toBe('git@github.com:acme/widgets.git');
    expect(originUrl('[remote "Origin"]\nurl = x:y/z')).toBeUndefined();
    expect(originUrl('[core]\nurl = x:y/z')).toBeUndefined();
    expect(() => originUrl('[remote "origin"]\n\turl = https://x/a\\\n/b')).toThrow(/continues over lines/);
  });
});

describe("a HEAD's branch", () => {
  it.each([
    ['ref: refs/heads/main\n', 'main'],
    ['ref: refs/heads/feature/x-1\n', 'feature/x-1'],
  ])('%j is %s', (head, branch) => expect(branchOfHead(head)).toEqual({ branch }));
  it.each([
    ['4b825dc642cb6eb9a060e54bf8d69288fbee4904\n', /detached/],
    ['ref: refs/tags/v1\n', /detached/],
    ['ref: refs/heads/a;project=b\n', /no branch label/],
    ['ref: refs/heads/-x\n', /no branch label/],
  ])('%j gives no branch (%s)', (head, why) => expect(branchOfHead(head).why).toMatch(why));
});

describe("a workspace's .git, hostile", () => {
  it('gives the project and branch of a plain clone', () => {
    const w = workspace({
      config: config('https://github.com/acme/widgets.git'),
      HEAD: 'ref: refs/heads/main\n',
    });
    expect(readWorkspaceGit(w)).toEqual({ project: 'acme/widgets', branch: 'main', notes: [] });
  });

  it('reads what real git writes', () => {
    const w = join(root, 'real');
    mkdirSync(w);
    execFileSync('git', ['init', '-q', '-b', 'trunk', w]);
    execFileSync('git', ['-C', w, 'remote', 'add', 'origin', 'git@example.org:team/tool.git']);
    expect(readWorkspaceGit(w)).toEqual({ project: 'team/tool', branch: 'trunk', notes: [] });
  });

  const attacks: [string, () => string, RegExp][] = [
    ['no .git', () => mkdtempSync(join(root, 'plain-')), /has no .git/],
    [
      '.git a symlink to another repository',
      () => {
        const other = workspace({ config: config('https://x/a/b'), HEAD: 'ref: refs/heads/main\n' });
        const w = mkdtempSync(join(root, 'link-'));
        symlinkSync(join(other, '.git'), join(w, '.git'));
        return w;
      },
      /symbolic link: not followed/,
    ],
    [
      '.git a file (gitdir: elsewhere)',
      () => {
        const w = mkdtempSync(join(root, 'file-'));
        writeFileSync(join(w, '.git'), 'gitdir: /etc\n');
        return w;
      },
      /not a folder/,
    ],
    [
      'config a symlink to a secret',
      () => {
        const w = workspace({ HEAD: 'ref: refs/heads/main\n' });
        symlinkSync('/etc/passwd', join(w, '.git', 'config'));
        return w;
      },
      /config is a symbolic link/,
    ],
    [
      'config a FIFO (would block a reader)',
      () => {
        const w = workspace({ HEAD: 'ref: refs/heads/main\n' });
        execFileSync('mkfifo', [join(w, '.git', 'config')]);
        return w;
      },
      /config is not a regular file/,
    ],
    [
      'config a folder',
      () => {
        const w = workspace({ HEAD: 'ref: refs/heads/main\n' });
        mkdirSync(join(w, '.git', 'config'));
        return w;
      },
      /config is not a regular file/,
    ],
    [
      'config huge',
      () =>
        workspace({
          config: `${config('https://x/a/b')}${'#'.repeat(GIT_CONFIG_MAX_BYTES)}`,
          HEAD: 'ref: refs/heads/main\n',
        }),
      /over the 65536 read/,
    ],
    [
      'config with a NUL byte',
      () => workspace({ config: config('https://x/a/b\0c'), HEAD: 'ref: refs/heads/main\n' }),
      /NUL byte/,
    ],
    [
      'origin url injecting a label',
      () => workspace({ config: config('https://x/a/b",project="other'), HEAD: 'ref: refs/heads/main\n' }),
      /no project name/,
    ],
    [
      'origin url with a newline escape',
      () => workspace({ config: config('"https://x/a/b\\nproject=evil"'), HEAD: 'ref: refs/heads/main\n' }),
      /space or a control character/,
    ],
    [
      'no origin',
      () => workspace({ config: '[core]\n', HEAD: 'ref: refs/heads/main\n' }),
      /no remote "origin"/,
    ],
    [
      'HEAD a symlink',
      () => {
        const w = workspace({ config: config('https://x/a/b') });
        symlinkSync('/etc/hostname', join(w, '.git', 'HEAD'));
        return w;
      },
      /HEAD is a symbolic link/,
    ],
  ];
  it.each(attacks)('%s: a reason, no crash, no label from it', (_name, make, why) => {
    const r = readWorkspaceGit(make());
    expect(r.notes.join('; ')).toMatch(why);
    for (const v of [r.project, r.branch]) if (v !== undefined) expect(v).toMatch(/^[A-Za-z0-9._/+-]+$/);
  });
});

describe("a session's labels", () => {
  const w = workspace({ config: config('git@h:acme/widgets.git'), HEAD: 'ref: refs/heads/dev\n' });
  it('are --project and --branch when given, the workspace git otherwise, each on its own', () => {
    expect(sessionLabels({}, w)).toEqual({ project: 'acme/widgets', branch: 'dev', notes: [] });
    expect(sessionLabels({ project: 'mine' }, w)).toEqual({ project: 'mine', branch: 'dev', notes: [] });
    expect(sessionLabels({ project: 'p', branch: 'b' }, '/nonexistent')).toEqual({
      project: 'p',
      branch: 'b',
      notes: [],
    });
    expect(sessionLabels({}, join(root, 'nowhere'))).toEqual({
      notes: [expect.stringMatching(/no workspace/)],
    });
  });
});
