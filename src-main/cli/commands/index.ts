import type { Command } from '../command';
import { discoverCommand } from './discover';
import { libraryCommand } from './library';
import { importCommand } from './import';
import { exportCommand } from './export';
import { compareCommand } from './compare';
import { evaluateCommand } from './evaluate';
import { generateDataCommand } from './generate-data';
import { modelCommand } from './model';
import { plotCommand } from './plot';
import { predictCommand } from './predict';
import { serveCommand } from './serve';
import { probeCommand } from './probe';
import { shiftCommand } from './shift';
import { fetchCommand } from './fetch';
import { inspectCommand } from './inspect';
import { cacheCommand } from './cache';

/** Every `sfc` sub-command, in the order `sfc --help` lists them. */
export const COMMANDS: Command[] = [
  fetchCommand,
  inspectCommand,
  cacheCommand,
  discoverCommand,
  evaluateCommand,
  probeCommand,
  shiftCommand,
  generateDataCommand,
  libraryCommand,
  importCommand,
  exportCommand,
  compareCommand,
  modelCommand,
  plotCommand,
  predictCommand,
  serveCommand,
];
