import { Command, CommanderError } from 'commander';
import { registerCheckConfig } from './commands/check-config.js';
import { registerDemo } from './commands/demo.js';
import { registerDetect } from './commands/detect.js';
import { registerDrift } from './commands/drift.js';
import { registerDoctor } from './commands/doctor.js';
import { registerFleet } from './commands/fleet.js';
import { registerHashPassword } from './commands/hash-password.js';
import { registerModels } from './commands/models.js';
import { registerPm25 } from './commands/pm25.js';
import { registerRun } from './commands/run.js';
import { version } from '../runtime/version.js';

/** Commands set the exit code here; main returns it. */
export interface CliResult {
  code: number;
}

/** Explicit list of subcommands (no discovery). */
const commands = [
  registerRun,
  registerCheckConfig,
  registerDoctor,
  registerDemo,
  registerPm25,
  registerDrift,
  registerFleet,
  registerModels,
  registerDetect,
  registerHashPassword,
];

/** The `vigil` program with every subcommand; actions set `result.code`. */
export function buildProgram(result: CliResult): Command {
  const program = new Command('vigil')
    .description('Vigil: edge streaming detection agent')
    .version(version)
    .exitOverride()
    // One line of help after a usage error, not the whole option list (which buries the error).
    .showHelpAfterError('(add --help for the usage)');
  for (const register of commands) register(program, result);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const result: CliResult = { code: 0 };
  const program = buildProgram(result);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    console.error(`vigil: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  return result.code;
}
