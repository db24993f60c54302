import type { Command } from '../command';
import { discoverCommand } from './discover';
import { evaluateCommand } from './evaluate';
import { generateDataCommand } from './generate-data';
import { modelCommand } from './model';
import { predictCommand } from './predict';
import { serveCommand } from './serve';

/** Every `sfc` sub-command, in the order `sfc --help` lists them. */
export const COMMANDS: Command[] = [discoverCommand, evaluateCommand, generateDataCommand, modelCommand, predictCommand, serveCommand];
