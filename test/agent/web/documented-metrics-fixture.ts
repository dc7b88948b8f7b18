import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../support/shared.js';

/** The metrics table of docs/http.md: name → [type, label names]. */
export function documentedMetrics(): Map<string, [string, string[]]> {
  const doc = readFileSync(path.join(repoRoot, 'docs', 'http.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## `/metrics`'), doc.indexOf('## Security'));
  const out = new Map<string, [string, string[]]>();
  for (const row of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const [names, type, labels] = row
      .split('|')
      .slice(1, 4)
      .map((c) => c.trim()) as [string, string, string];
    // Label values are given in parentheses: only the names before them are label names.
    const labelNames = [...labels.replace(/\([^)]*\)/g, '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    for (const m of names.matchAll(/`([^`]+)`/g)) out.set(m[1]!, [type, labelNames]);
  }
  return out;
}
