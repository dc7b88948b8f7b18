import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/shared.js';

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};

describe('README.md', () => {
  it('says why each dependency is there (type packages and @eslint/js aside)', () => {
    const section = readme.slice(readme.indexOf('## Dependencies'), readme.indexOf('## Licence'));
    const names = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)].filter(
      (n) => !n.startsWith('@types/') && n !== '@eslint/js',
    );
    expect(names.filter((n) => !section.includes(`\`${n}\``))).toEqual([]);
  });

  it('names only npm scripts that exist', () => {
    const named = [...readme.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((s) => !(s in pkg.scripts))).toEqual([]);
  });
});
