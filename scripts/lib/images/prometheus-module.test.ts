import { describe, expect, it } from 'vitest';
import { pinDependencies } from './prometheus-module.ts';

describe('pinDependencies', () => {
  it('pins each named dependency exactly, and leaves the rest of the file as it was', () => {
    const pkg = `{
  "dependencies": {
    "@mantine/core": "^9.7.2",
    "@mantine/hooks":"^9.7.2",
    "@mantine/core-extra": "^1.0.0",
    "react": "^19.2.0"
  }
}
`;
    const out = pinDependencies(pkg, { '@mantine/core': '9.6.2', '@mantine/hooks': '9.6.2' });
    expect(JSON.parse(out).dependencies).toEqual({
      '@mantine/core': '9.6.2',
      '@mantine/hooks': '9.6.2',
      '@mantine/core-extra': '^1.0.0',
      react: '^19.2.0',
    });
    expect(out.replace(/9\.6\.2/g, '^9.7.2')).toBe(pkg.replace('"@mantine/hooks":"', '"@mantine/hooks":"'));
  });
});
