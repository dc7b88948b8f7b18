import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../../../../agent/web/password-hash.js';
import { repoRoot } from '../../../support/shared.js';

const cli = path.join(repoRoot, 'agent/cli/vigil.mjs');
const hashLine = /^scrypt:16384:8:1:\S+$/m;

/** `vigil hash-password` with `input` piped on stdin. */
function piped(input: string) {
  const r = spawnSync(process.execPath, [cli, 'hash-password'], { input, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * `vigil hash-password` on a terminal (util-linux `script` gives it a pty): each answer is typed only once
 * its prompt shows, as a person would, so the transcript holds whatever the terminal echoed.
 */
function onTerminal(answers: string[]): Promise<{ code: number | null; transcript: string }> {
  const child = spawn(
    'script',
    ['-q', '-e', '-c', `"${process.execPath}" "${cli}" hash-password`, '/dev/null'],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let transcript = '';
  let prompts = 0;
  child.stdout.on('data', (d: Buffer) => {
    transcript += d.toString();
    const seen = (transcript.match(/(password|again): $/gm) ?? []).length;
    if (seen > prompts && answers[prompts] !== undefined) child.stdin.write(`${answers[prompts++]}\r`);
  });
  // A prompt that never comes (a regression) ends the child rather than leaving it behind.
  const stuck = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(stuck);
      resolve({ code, transcript });
    }),
  );
}

const hasScript = spawnSync('script', ['--version']).status === 0;

describe('vigil hash-password', () => {
  it('hashes one piped line (its line ending dropped) into a hash that verifies', async () => {
    const r = piped('correct horse battery\n');
    expect(r.code, r.stderr).toBe(0);
    const hash = r.stdout.trim();
    expect(hash).toMatch(hashLine);
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse battery\n', hash)).toBe(false);
    expect(r.stderr).toContain('http.auth.passwordHash');
  });

  it('refuses a short password and a second line (exit 2, nothing on stdout)', () => {
    const short = piped('1234567\n');
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('at least 8 characters');
    expect(short.stdout).toBe('');
    const two = piped('first password\nsecond one\n');
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('more than one line');
    expect(two.stdout).toBe('');
  });

  it.skipIf(!hasScript)('asks twice on a terminal without echoing what is typed', async () => {
    const r = await onTerminal(['tyPed secret 42', 'tyPed secret 42']);
    expect(r.code, r.transcript).toBe(0);
    expect(r.transcript).not.toContain('tyPed');
    const hash = hashLine.exec(r.transcript.replace(/\r/g, ''))?.[0];
    expect(hash, r.transcript).toBeDefined();
    expect(await verifyPassword('tyPed secret 42', hash!)).toBe(true);
  });

  it.skipIf(!hasScript)('prints nothing when the two differ (exit 2)', async () => {
    const r = await onTerminal(['first secret 1', 'other secret 2']);
    expect(r.code).toBe(2);
    expect(r.transcript).toContain('the two passwords differ');
    expect(r.transcript).not.toMatch(/scrypt:/);
    expect(r.transcript).not.toContain('secret');
  });
});
