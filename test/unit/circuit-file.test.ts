/**
 * The circuit file's schema and cross-field rules: each bad input below used to pass the old
 * hand-written check and then fail later with a raw JS error or a wrong result (exit 0).
 */
import { describe, expect, it } from 'vitest';
import { type CircuitFile, CircuitFileSchema, provenanceWarnings, validateCircuitFile } from '../../src-main/circuits/circuit-file';

const HASH = (c: string) => c.repeat(64);

function circuit(over: (c: any) => void = () => {}): unknown {
  const c = {
    format: 'sfc-circuit',
    version: 1,
    createdAt: '2025-01-01T00:00:00.000Z',
    app: { name: 'sfc-workbench', version: '0.1.0' },
    parameters: {
      method: 'ig', steps: 10, aggregation: 'none', nodeThreshold: 0.1, edgeThreshold: 0.01, keepAll: false,
      nodesOnly: false, examples: 2, batchSize: 2, seed: 12, nopair: false, neurons: false,
    },
    provenance: { model: { path: '/m', sha256: HASH('a') }, saes: { path: '/s', sha256: HASH('b') }, data: { path: '/d', sha256: HASH('c') } },
    submodules: [
      { name: 'embed', features: 8, kind: 'relu' },
      { name: 'resid_0', features: 8, kind: 'relu' },
    ],
    positions: ['The', ' author'],
    examples: [{ clean_prefix: 'The author' }],
    totalEffect: 1.5,
    nodes: [
      { id: 'embed/3@0', submodule: 'embed', feature: 3, position: 0, effect: 0.5 },
      { id: 'resid_0/error@1', submodule: 'resid_0', feature: 'error', position: 1, effect: -0.25 },
    ],
    edges: [
      { source: 'embed/3@0', target: 'resid_0/error@1', weight: 0.125 },
      { source: 'resid_0/error@1', target: 'y', weight: -0.25 },
    ],
  };
  over(c);
  return JSON.parse(JSON.stringify(c));
}

const check = (c: unknown) => () => validateCircuitFile(c, 'c.json');

describe('circuit file validation', () => {
  it('accepts a well-formed file, and the schema is exported for the API contract', () => {
    const c = validateCircuitFile(circuit(), 'c.json');
    expect(c.nodes).toHaveLength(2);
    expect(CircuitFileSchema.safeParse(circuit()).success).toBe(true);
    // A sum circuit: no positions, no node positions.
    const sum = circuit((x) => {
      x.parameters.aggregation = 'sum';
      x.positions = null;
      x.nodes = [{ id: 'embed/3', submodule: 'embed', feature: 3, effect: 0.5 }];
      x.edges = [{ source: 'embed/3', target: 'y', weight: 0.5 }];
    });
    expect(validateCircuitFile(sum, 'c.json').positions).toBeNull();
  });

  it('names the file and the field path for each bad input', () => {
    const cases: [(c: any) => void, string | RegExp][] = [
      [(c) => delete c.provenance, /^c\.json: provenance: /],
      [(c) => delete c.provenance.model.sha256, /^c\.json: provenance\.model\.sha256: /],
      [(c) => (c.parameters.nodeThreshold = '0.1'), /^c\.json: parameters\.nodeThreshold: /],
      [(c) => (c.parameters.edgeThreshold = -1), /^c\.json: parameters\.edgeThreshold: /],
      [(c) => (c.nodes[0].effect = null), /^c\.json: nodes\[0\]\.effect: /],
      [(c) => (c.edges[1].weight = 'x'), /^c\.json: edges\[1\]\.weight: /],
      [(c) => (c.version = 2), /^c\.json: version: .*up to version 1/],
      [(c) => (c.format = 'other'), 'c.json: format: "other": not a circuit file (expected "sfc-circuit")'],
      // Cross-field rules.
      [
        (c) => {
          c.nodes[0].feature = 8;
          c.nodes[0].id = 'embed/8@0';
          c.edges = null;
        },
        'c.json: nodes[0].feature: 8 is out of range: embed has 8 features (0..7)',
      ],
      [
        (c) => {
          c.nodes[1].position = 2;
          c.nodes[1].id = 'resid_0/error@2';
          c.edges = null;
        },
        'c.json: nodes[1].position: 2 is out of range: the circuit has 2 positions (0..1)',
      ],
      [
        (c) => {
          c.nodes[1].submodule = 'resid_9';
          c.nodes[1].id = 'resid_9/error@1';
          c.edges = null;
        },
        "c.json: nodes[1].submodule: 'resid_9' is not listed in submodules (embed, resid_0)",
      ],
      [(c) => (c.nodes[0].id = 'embed/4@0'), "c.json: nodes[0].id: 'embed/4@0' does not match its submodule, feature and position (expected 'embed/3@0')"],
      [(c) => delete c.nodes[0].position, "c.json: nodes[0].position: is required in a position-resolved circuit (aggregation 'none')"],
      [(c) => (c.positions = null), "c.json: positions: must list the token strings when parameters.aggregation is 'none'"],
      [(c) => (c.edges[0].target = 'resid_0/5@1'), "c.json: edges[0].target: 'resid_0/5@1' is not a node of this circuit (or 'y')"],
      [(c) => (c.edges[0].source = 'embed/9@0'), "c.json: edges[0].source: 'embed/9@0' is not a node of this circuit"],
      [(c) => (c.provenance.saes = { identity: true }), 'c.json: provenance.saes: is {identity: true} but parameters.neurons is false'],
    ];
    for (const [edit, msg] of cases) expect(check(circuit(edit)), String(msg)).toThrow(msg);
    expect(check([1])).toThrow('c.json: (top level): expected a JSON object');
  });

  it('lists several problems in one message', () => {
    const bad = circuit((c) => {
      c.parameters.steps = 0;
      c.nodes[0].feature = -1;
    });
    expect(check(bad)).toThrow(/^c\.json: parameters\.steps: .*; nodes\[0\]\.feature: /);
  });
});

describe('provenance warnings', () => {
  it('warns when the model or SAEs used do not hash to the stored provenance, and not otherwise', () => {
    const c = validateCircuitFile(circuit(), 'c.json') as CircuitFile;
    const same = (p: string) => (p === '/m' ? HASH('a') : HASH('b'));
    expect(provenanceWarnings(c, 'c.json', { model: '/m', saes: '/s' }, same)).toEqual([]);
    const changed = (p: string) => (p === '/m' ? HASH('e') : HASH('b'));
    expect(provenanceWarnings(c, 'c.json', { model: '/m', saes: '/s' }, changed)).toEqual([
      'c.json: provenance.model.sha256 does not match the model used (/m, which has changed since): results may not be comparable',
    ]);
    const other = (p: string) => (p === '/m' ? HASH('a') : HASH('f'));
    expect(provenanceWarnings(c, 'c.json', { model: '/m', saes: '/other' }, other)).toEqual([
      'c.json: provenance.saes.sha256 does not match the saes used (/other; the circuit was found with /s): results may not be comparable',
    ]);
  });
});
