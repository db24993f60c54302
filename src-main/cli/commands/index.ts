import type { Command } from '../command';
import { modelCommand } from './model';
import { predictCommand } from './predict';

/** Every `sfc` sub-command, in the order `sfc --help` lists them. */
export const COMMANDS: Command[] = [modelCommand, predictCommand];
