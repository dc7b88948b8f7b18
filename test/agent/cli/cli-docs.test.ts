import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../agent/cli/main.js';
import { repoRoot } from '../../support/shared.js';

interface Flag {
  long: string;
  short: string | undefined;
}

/** Every runnable command of the CLI by its full name (`drift export`), with its flags. */
function commandsOf(cmd: Command, prefix = ''): Map<string, Flag[]> {
  const out = new Map<string, Flag[]>();
  for (const sub of cmd.commands) {
    const name = `${prefix}${sub.name()}`;
    if (sub.commands.length) for (const [k, v] of commandsOf(sub, `${name} `)) out.set(k, v);
    else
      out.set(
        name,
        sub.options
          .filter((o) => o.long && o.long !== '--help')
          .map((o) => ({ long: o.long!, short: o.short })),
      );
  }
  return out;
}

const mentions = (text: string, flag: string) => new RegExp(`(?<![\\w-])${flag}(?![\\w-])`).test(text);

const docs = [
  readFileSync(path.join(repoRoot, 'README.md'), 'utf8'),
  ...readdirSync(path.join(repoRoot, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => readFileSync(path.join(repoRoot, 'docs', f), 'utf8')),
].join('\n');

describe('the CLI and its documentation (README.md, docs/)', () => {
  const commands = commandsOf(buildProgram({ code: 0 }));

  it('mentions every flag of every command beside the command', () => {
    expect(commands.size).toBeGreaterThan(10);
    // A paragraph, list item or table row that names the command or its group (`models`) and the flag, long
    // or short (`-c`): flags shared by a group (`vigil drift … --data-dir`) are described once for it.
    const paragraphs = docs.split(/\n\s*\n|\n(?=\s*[-|] )/);
    const missing = [...commands].flatMap(([name, flags]) =>
      flags
        .filter(
          (f) =>
            !paragraphs.some(
              (p) =>
                (p.includes(name) || p.includes(`vigil ${name.split(' ')[0]}`)) &&
                (mentions(p, f.long) || (f.short !== undefined && mentions(p, f.short))),
            ),
        )
        .map((f) => `vigil ${name} ${f.long}`),
    );
    expect(missing).toEqual([]);
  });

  it('shows no command line with a flag its command does not have', () => {
    // `vigil <command> …` up to the end of its code span or line (a comment after `#` left out); the
    // longest name first, so `vigil drift export` is not read as `vigil drift`.
    const names = [...commands.keys()].sort((a, b) => b.length - a.length);
    const commandLine = new RegExp(`vigil (${names.join('|')})(?![\\w-])([^\`\\n#|]*)`, 'g');
    const lines = [...docs.matchAll(commandLine)];
    expect(lines.length).toBeGreaterThan(20);
    const wrong = lines.flatMap(([, name, rest]) =>
      (rest!.match(/(?<=^|[\s[])--[a-z][a-z-]*/g) ?? [])
        .filter((flag) => !commands.get(name!)!.some((f) => f.long === flag))
        .map((flag) => `vigil ${name} … ${flag}`),
    );
    expect(wrong).toEqual([]);
  });
});
