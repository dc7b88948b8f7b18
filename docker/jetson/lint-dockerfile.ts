/**
 * A Dockerfile linter for machines without hadolint (Debian 12 does not package it, and its release
 * binaries cannot be fetched here). It checks the hadolint rules that apply to Dockerfile.jetson, under
 * their hadolint codes so `.hadolint.yaml` ignores the same ones, plus two of Vigil's own (VG*), and runs
 * ShellCheck on each RUN when `shellcheck` is installed, as hadolint does.
 *
 *   node --import tsx docker/jetson/lint-dockerfile.ts [Dockerfile.jetson]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

export interface Finding {
  line: number;
  rule: string;
  message: string;
}

export interface Instruction {
  line: number;
  keyword: string;
  args: string;
  /** Index of the FROM this instruction belongs to (-1 before the first). */
  stage: number;
}

/** Instructions with continuation lines joined and comments dropped (heredocs are not used here). */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  let stage = -1;
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i]!.trim();
    if (!first || first.startsWith('#')) continue;
    const start = i;
    let joined = lines[i]!;
    while (/\\\s*$/.test(joined) && i + 1 < lines.length) {
      i++;
      const next = lines[i]!;
      if (next.trim().startsWith('#')) continue; // comment lines inside a continuation are dropped
      joined = joined.replace(/\\\s*$/, ' ') + next.trim();
    }
    const m = /^\s*(\w+)\s*(.*)$/s.exec(joined);
    if (!m) continue;
    const keyword = m[1]!.toUpperCase();
    if (keyword === 'FROM') stage++;
    out.push({ line: start + 1, keyword, args: m[2]!.trim(), stage });
  }
  return out;
}

/** Shell commands of a RUN: split on `&&`, `||`, `;` and `|`, each trimmed. */
const commands = (run: string) => run.split(/&&|\|\||;|\|/).map((c) => c.trim());
const hasCommand = (run: string, re: RegExp) => commands(run).some((c) => re.test(c));

function runRules(ins: Instruction, pipefail: boolean): Finding[] {
  const f = (rule: string, message: string): Finding => ({ line: ins.line, rule, message });
  const out: Finding[] = [];
  const run = ins.args;
  if (hasCommand(run, /^cd\s/)) out.push(f('DL3003', 'Use WORKDIR to switch to a directory'));
  if (hasCommand(run, /^sudo\s/)) out.push(f('DL3004', 'Do not use sudo'));
  if (hasCommand(run, /^apt\s+(install|update|upgrade|remove)/))
    out.push(f('DL3027', 'Use apt-get, not apt'));
  for (const c of commands(run).filter((c) => /^apt-get\s+(-\S+\s+)*install\b/.test(c))) {
    if (!/\s(-y|--yes|-qq|--assume-yes)\b/.test(c))
      out.push(f('DL3014', 'Use the -y switch with apt-get install'));
    if (!c.includes('--no-install-recommends'))
      out.push(f('DL3015', 'Avoid additional packages: --no-install-recommends'));
  }
  if (hasCommand(run, /^apt-get\s+(-\S+\s+)*install\b/) && !/rm -rf \/var\/lib\/apt\/lists/.test(run)) {
    out.push(f('DL3009', 'Delete the apt-get lists after installing something'));
  }
  for (const c of commands(run).filter((c) => /^pip3?\s+install\b/.test(c))) {
    if (!c.includes('--no-cache-dir')) out.push(f('DL3042', 'Avoid the pip cache: --no-cache-dir'));
    const pkgs = c
      .split(/\s+/)
      .slice(2)
      .filter((a) => !a.startsWith('-'));
    if (pkgs.some((p) => !/[=<>@]|\/|\.whl$/.test(p))) out.push(f('DL3013', 'Pin versions in pip install'));
  }
  for (const c of commands(run).filter((c) => /^npm\s+(i|install)\s/.test(c))) {
    const pkgs = c
      .split(/\s+/)
      .slice(2)
      .filter((a) => !a.startsWith('-'));
    if (pkgs.some((p) => !/@[^/]*\d|^[./]/.test(p))) out.push(f('DL3016', 'Pin versions in npm install'));
  }
  if (hasCommand(run, /^wget\s/) && !/--progress|-q\b|--quiet|-nv\b/.test(run)) {
    out.push(f('DL3047', 'wget without --progress bloats the build log'));
  }
  for (const c of commands(run).filter((c) => /^useradd\s/.test(c))) {
    if (/\s(-u|--uid)\s/.test(c) && !/\s(-l|--no-log-init)\b/.test(c)) {
      out.push(f('DL3046', 'useradd with a UID needs -l, or the lastlog file grows huge'));
    }
  }
  if (/[^|]\|[^|]/.test(run) && !pipefail)
    out.push(f('DL4006', 'Set SHELL -o pipefail before a RUN with a pipe'));
  return out;
}

/** Findings, sorted by line, minus the codes in `ignored`. */
export function lintDockerfile(text: string, ignored: readonly string[] = []): Finding[] {
  const ins = parseDockerfile(text);
  const out: Finding[] = [];
  const at = (i: Instruction, rule: string, message: string) => out.push({ line: i.line, rule, message });
  const aliases: string[] = [];
  const lastStage = Math.max(...ins.map((i) => i.stage));
  let usesWget = false;
  let usesCurl = false;
  for (const stage of new Set(ins.map((i) => i.stage))) {
    const inStage = ins.filter((i) => i.stage === stage);
    let pipefail = false;
    let workdir = false;
    let user: Instruction | undefined;
    for (const i of inStage) {
      const args = i.args;
      switch (i.keyword) {
        case 'FROM': {
          const [image = '', as, alias] = args.replace(/--platform=\S+\s+/, '').split(/\s+/);
          const known = aliases.includes(image) || image === 'scratch' || image.includes('$');
          if (!known && !/[:@][^/]*$/.test(image))
            at(i, 'DL3006', `Always tag the image explicitly: ${image}`);
          if (/:latest$/.test(image)) at(i, 'DL3007', `Do not use :latest: ${image}`);
          if (as?.toUpperCase() === 'AS' && alias) {
            if (aliases.includes(alias)) at(i, 'DL3024', `FROM aliases must be unique: ${alias}`);
            aliases.push(alias);
          }
          break;
        }
        case 'SHELL':
          pipefail = /pipefail/.test(args);
          break;
        case 'WORKDIR':
          workdir = true;
          if (!/^["']?(\/|\$)/.test(args)) at(i, 'DL3000', 'Use an absolute WORKDIR');
          break;
        case 'USER':
          user = i;
          break;
        case 'RUN':
          out.push(...runRules(i, pipefail));
          usesWget ||= hasCommand(args, /^wget\s/);
          usesCurl ||= hasCommand(args, /^curl\s/);
          break;
        case 'ADD':
          if (!/https?:\/\/|\.(tar(\.\w+)?|tgz)\b/.test(args))
            at(i, 'DL3020', 'Use COPY instead of ADD for files');
          break;
        case 'COPY': {
          const from = /--from=(\S+)/.exec(args)?.[1];
          const own = /\bAS\s+(\S+)/i.exec(inStage[0]?.args ?? '')?.[1];
          if (from && from === own) at(i, 'DL3023', 'COPY --from cannot reference its own stage');
          else if (from && !aliases.includes(from) && !/^\d+$/.test(from)) {
            at(i, 'DL3022', `COPY --from should reference a previously defined stage: ${from}`);
          }
          const dest = args.split(/\s+/).at(-1) ?? '';
          if (!workdir && !/^["']?(\/|\$)/.test(dest))
            at(i, 'DL3045', 'COPY to a relative destination without WORKDIR');
          break;
        }
        case 'CMD':
        case 'ENTRYPOINT':
          if (!args.startsWith('[')) at(i, 'DL3025', `Use JSON notation for ${i.keyword}`);
          break;
        case 'EXPOSE':
          for (const p of args.split(/\s+/)) {
            const n = Number(p.split('/')[0]);
            if (!(n >= 0 && n <= 65535)) at(i, 'DL3011', `Valid UNIX ports range from 0 to 65535: ${p}`);
          }
          break;
      }
    }
    for (const kw of ['CMD', 'ENTRYPOINT']) {
      const many = inStage.filter((i) => i.keyword === kw);
      if (many.length > 1) at(many[1]!, kw === 'CMD' ? 'DL4003' : 'DL4004', `Multiple ${kw} instructions`);
    }
    if (stage === lastStage) {
      const last = inStage[0]!;
      if (user && /^(root|0)(:|$)/.test(user.args)) at(user, 'DL3002', 'Last USER should not be root');
      if (!user) at(last, 'VG001', 'The final stage must switch to a non-root USER');
      if (!inStage.some((i) => i.keyword === 'HEALTHCHECK'))
        at(last, 'VG002', 'The final stage needs a HEALTHCHECK');
    }
  }
  if (usesWget && usesCurl)
    out.push({ line: 1, rule: 'DL4001', message: 'Use either wget or curl, not both' });
  return out.filter((f) => !ignored.includes(f.rule)).sort((a, b) => a.line - b.line);
}

/** ShellCheck on every RUN (bash, as the SHELL lines say), when it is installed; [] otherwise. */
export function shellcheckRuns(text: string, ignored: readonly string[] = []): Finding[] | undefined {
  const bin = ['/usr/bin/shellcheck', '/usr/local/bin/shellcheck'].find((b) => existsSync(b));
  if (!bin) return undefined;
  const out: Finding[] = [];
  for (const i of parseDockerfile(text).filter((i) => i.keyword === 'RUN' && !i.args.startsWith('['))) {
    try {
      const skip = ['SC2148', ...ignored.filter((r) => /^SC\d+$/.test(r))];
      execFileSync(bin, ['-s', 'bash', '-f', 'gcc', '-e', skip.join(','), '-'], {
        input: i.args,
        stdio: 'pipe',
      });
    } catch (err) {
      const report = String((err as { stdout?: Buffer }).stdout ?? err);
      for (const m of report.matchAll(/^-:\d+:\d+: \w+: (.*) \[(SC\d+)\]$/gm)) {
        out.push({ line: i.line, rule: m[2]!, message: m[1]! });
      }
    }
  }
  return out;
}

/** The `ignored` codes of a .hadolint.yaml. */
export function hadolintIgnored(file: string): string[] {
  if (!existsSync(file)) return [];
  const doc = parseYaml(readFileSync(file, 'utf8')) as { ignored?: unknown };
  return Array.isArray(doc?.ignored) ? doc.ignored.map(String) : [];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const file = process.argv[2] ?? path.join(root, 'Dockerfile.jetson');
  const text = readFileSync(file, 'utf8');
  const ignored = hadolintIgnored(path.join(root, '.hadolint.yaml'));
  const sc = shellcheckRuns(text, ignored);
  const findings = [...lintDockerfile(text, ignored), ...(sc ?? [])].sort((a, b) => a.line - b.line);
  for (const f of findings)
    console.log(`${path.relative(process.cwd(), file)}:${f.line} ${f.rule} ${f.message}`);
  console.log(
    `${findings.length} finding(s)${sc ? '' : ' (shellcheck not installed: RUN bodies not checked)'}`,
  );
  process.exitCode = findings.length ? 1 : 0;
}
