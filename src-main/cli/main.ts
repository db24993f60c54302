/**
 * `sfc` entry: dispatches to a sub-command, turns user errors into one clear line and exit 2,
 * cancellation (Ctrl-C) into exit 130.
 */
import { parseArgs } from 'node:util';
import { COMMANDS } from './commands';
import { UsageError } from './command';
import { CancelledError } from '../util/job-context';
import { APP_VERSION } from '../version';

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `sfc ${APP_VERSION} — sparse feature circuits workbench`,
    '',
    'usage: sfc <command> [options]',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `sfc <command> --help` for the options of one command.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(APP_VERSION);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    console.error(`sfc: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`usage: ${cmd.usage}\n\n${cmd.summary}`);
    return 0;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: cmd.options,
      allowPositionals: !!cmd.positionals,
      strict: true,
    });
    await cmd.run({ values: values as Record<string, string | boolean | string[] | undefined>, positionals });
    return 0;
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err instanceof CancelledError || err.name === 'CancelledError') {
      console.error('sfc: cancelled');
      return 130;
    }
    if (err instanceof UsageError || err.code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`sfc ${name}: ${err.message}\nusage: ${cmd.usage}`);
      return 2;
    }
    console.error(`sfc ${name}: ${err.message}`);
    if (process.env.SFC_DEBUG) console.error(err.stack);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
