import type { Command } from 'commander';
import { hashPassword } from '../../web/password-hash.js';
import type { CliResult } from '../main.js';

/** Shorter than this is refused: the hash is only as strong as what it hashes, and the page is on a LAN. */
export const minPasswordLength = 8;

/**
 * `vigil hash-password`: the `http.auth.passwordHash` for a password read from the terminal (not echoed,
 * asked twice) or from stdin. Never from the command line, where shell history and `ps` would keep it.
 */
export function registerHashPassword(program: Command, result: CliResult): void {
  program
    .command('hash-password')
    .description('print the http.auth.passwordHash of a password typed at the prompt or piped on stdin')
    .action(async () => {
      try {
        const password = process.stdin.isTTY ? await askTwice() : await readPiped();
        if (password.length < minPasswordLength)
          throw new Error(`a password of at least ${minPasswordLength} characters, please`);
        console.log(await hashPassword(password));
        console.error('put it in http.auth.passwordHash, with http.auth.user (docs/http.md)');
        result.code = 0;
      } catch (err) {
        console.error(`vigil hash-password: ${err instanceof Error ? err.message : String(err)}`);
        result.code = 2;
      }
    });
}

async function askTwice(): Promise<string> {
  const first = await askHidden('password: ');
  const again = await askHidden('again: ');
  if (first !== again) throw new Error('the two passwords differ; nothing printed');
  return first;
}

/** The whole of stdin, less one line ending: `printf '%s' pw | vigil hash-password` and `echo pw |` agree. */
async function readPiped(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.replace(/\r?\n$/, '').includes('\n')) throw new Error('stdin holds more than one line');
  return text.replace(/\r?\n$/, '');
}

/** One line from the terminal in raw mode, so nothing typed is echoed. Ctrl-C cancels. */
function askHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  // Raw (no echo) before the prompt shows: a quick typist, or a script answering the prompt, was echoed when
  // the answer came between the two (the terminal test caught "again: other secret 2" under load).
  stdin.setRawMode(true);
  process.stderr.write(prompt);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          finish();
          return resolve(typed);
        }
        if (ch === '\u0003' || ch === '\u0004') {
          finish();
          return reject(new Error('cancelled'));
        }
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else if (ch >= ' ') typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}
