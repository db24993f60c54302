/**
 * The view layer shared by the circuit editor (renderer) and `sfc plot` (docs/figures.md). Pure
 * functions only: no Node, Electron, DOM or React imports, so Vite bundles it and the CLI runs it.
 */
export * from './names';
export * from './types';
export * from './layout';
export * from './filter';
export * from './encodings';
export * from './svg';
export * from './compare';
