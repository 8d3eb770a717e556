// A Dockerfile's copies as Docker makes them: continued lines, folders, WORKDIR, and stages left out.
import { describe, expect, it } from 'vitest';
import { dockerfileCopies } from './dockerfile-copies.ts';
import { memoryTree } from './source-tree.ts';

describe('dockerfileCopies', () => {
  const tree = memoryTree({
    'img/Dockerfile': [
      'FROM base AS build',
      'COPY --from=other /x /y',
      'FROM base',
      '# COPY img/not-this.ts ./',
      'WORKDIR /opt/app',
      'COPY --chmod=0755 img/a.ts \\',
      '     img/b.sh ./img/',
      'COPY lib ./vendor',
      'COPY ["img/c.ts", "/abs/c.ts"]',
      'COPY app/ /app/',
      'WORKDIR sub',
      'ENTRYPOINT ["node", "/opt/app/img/a.ts"]',
    ].join('\n'),
    'img/a.ts': '',
    'img/b.sh': '',
    'img/c.ts': '',
    'lib/one.ts': '',
    'lib/deep/two.ts': '',
  });
  it('maps each repository file to where the image holds it, with the line of its COPY', () => {
    const c = dockerfileCopies(tree, 'img/Dockerfile');
    expect(Object.fromEntries(c.copied)).toEqual({
      'img/a.ts': '/opt/app/img/a.ts',
      'img/b.sh': '/opt/app/img/b.sh',
      'lib/one.ts': '/opt/app/vendor/one.ts',
      'lib/deep/two.ts': '/opt/app/vendor/deep/two.ts',
      'img/c.ts': '/abs/c.ts',
    });
    expect(c.lines.get('img/b.sh')).toBe(6);
    expect(c.commands).toEqual([
      { text: '["node", "/opt/app/img/a.ts"]', workdir: '/opt/app/sub', line: 12 },
    ]);
  });
});
