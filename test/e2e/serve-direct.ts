// `sfc serve` without the CLI dispatcher (for before bin/sfc.js knows `serve`):
// node bin/run-ts.js test/e2e/serve-direct.ts [--port N] [--model DIR]
import { parseArgs } from 'node:util';
import { serveCommand } from '../../src-main/cli/commands/serve';

const { values } = parseArgs({ args: process.argv.slice(2), options: serveCommand.options });
await serveCommand.run({ values: values as Record<string, string | boolean | undefined>, positionals: [] });
