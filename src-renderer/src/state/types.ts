/** The shape of all UI state (one store, state/store.ts) and the API shapes it holds. */
import type { AppInfo, ModelInfo, Request, Response, TokenProb } from '../../../src-main/api/contract';
import type { AnnotationRecord, CircuitSummary } from '../../../src-main/store/records';
import type { StoredCircuit } from '../../../src-main/store/circuits';
import type { ConnectionStatus } from '../api/client';
import type { GraphModel } from '../graph/model';

export type LibraryList = Response<'library.list'>;
export type Evaluation = Response<'circuit.evaluate'>;
export type Experiment = Response<'circuit.ablate'>;
export type Estimate = Response<'circuit.estimate'>;
export type FeatureExamples = Response<'feature.examples'>;
export type Comparison = Response<'circuit.compare'>;
export type DiscoverRequest = Request<'circuit.discover'>;
export type AblateMode = NonNullable<Request<'circuit.ablate'>['mode']>;
export type { AnnotationRecord, CircuitSummary, StoredCircuit };

export type ViewName = 'graph' | 'discover' | 'evaluate' | 'compare' | 'shift';

export type HubSetups = Response<'hub.setups'>;
export type HubInspection = Response<'hub.inspect'>;
export type CacheListing = Response<'hub.cache.list'>;
export type ShiftDemo = NonNullable<Response<'shift.demo'>>;
export type ProbeRecord = Response<'probe.train'>;
export type ShiftDiscovery = Response<'shift.discover'>;
export type ShiftFeature = Response<'shift.features'>['features'][number];
export type ShiftRunRecord = Response<'shift.run'>;
export type Decision = 'keep' | 'ablate' | null;
export type SideTab = 'inspector' | 'history' | 'ablate';

/** A job the UI is waiting on. */
export interface JobView {
  fraction: number | null;
  message: string;
  startedAt: number;
  /** ETA is measured from the last time the fraction went backwards (a new phase). */
  phaseAt: number;
  phaseFraction: number;
}

/** What a dropped file became, or why it was refused; shown in the Library. */
export interface ImportNote {
  id: number;
  file: string;
  ok: boolean;
  message: string;
  /** Dataset imports offer "Discover on it". */
  datasetId?: number;
  warnings?: string[];
}

export interface OpenCircuit {
  summary: CircuitSummary;
  circuit: StoredCircuit;
  graph: GraphModel;
  /** Every version of this circuit, oldest first. */
  history: CircuitSummary[];
  evaluations: Evaluation[];
  experiments: Experiment[];
}

export interface DiscoverForm {
  modelId: number | null;
  /** null: neurons (no SAEs). */
  saeSetId: number | null;
  datasetId: number | null;
  method: 'ig' | 'attrib' | 'exact';
  steps: number;
  aggregation: 'sum' | 'none';
  nodeThreshold: number;
  edgeThreshold: number;
  n: number;
  batchSize: number;
  name: string;
}

/** The Library's hub controls: known setups, a fetch, an inspected folder, the disk cache. */
export interface HubState {
  setups: HubSetups | null;
  setupsError: string | null;
  fetchJob: JobView | null;
  /** What the last fetch did or why it failed (shown inline, under the control). */
  fetchNote: { ok: boolean; text: string } | null;
  inspect: { path: string; loading: boolean; result: HubInspection | null; error: string | null; added: string | null };
  cache: { loading: boolean; listing: CacheListing | null; error: string | null; note: string | null };
}

/** The SHIFT view's loop: demo → probe → classifier circuit → judged features → run. */
export interface ShiftState {
  demo: ShiftDemo | null;
  demoLoading: boolean;
  /** A step that failed, shown inline under it. */
  error: { step: 'demo' | 'probe' | 'discover' | 'features' | 'run'; text: string } | null;
  probe: ProbeRecord | null;
  probeJob: JobView | null;
  /** The classifier circuit being judged: just discovered, or found again for the probe. */
  circuit: CircuitSummary | null;
  /** The discovery's own report (not kept across a reload). */
  discovery: ShiftDiscovery | null;
  discoverJob: JobView | null;
  features: ShiftFeature[] | null;
  featuresJob: JobView | null;
  /** Decisions and notes by `submodule/feature`, saved as they change (shift.judge). */
  judgements: ReadonlyMap<string, { decision: Decision; note: string }>;
  run: ShiftRunRecord | null;
  runJob: JobView | null;
}

export interface State {
  connection: { status: ConnectionStatus; detail: string | null };
  appInfo: AppInfo | null;
  appInfoError: string | null;
  model: { info: ModelInfo | null; loading: boolean; error: string | null };
  predict: { running: boolean; progress: string | null; result: TokenProb[] | null; error: string | null };

  library: LibraryList | null;
  librarySearch: string;
  libraryError: string | null;
  imports: ImportNote[];
  dragging: boolean;

  view: ViewName;
  side: SideTab;
  circuit: OpenCircuit | null;
  opening: number | null;
  openError: string | null;
  /** Feature annotations of the open circuit's SAE set, by position-free node id. */
  annotations: ReadonlyMap<string, AnnotationRecord>;
  annotationText: ReadonlyMap<string, string>;

  nodeThreshold: number;
  edgeThreshold: number;
  search: string;
  /** Kept apart from the node array: node components read only their own flag. */
  selection: ReadonlySet<string>;
  /** The node the Inspector shows (the last one clicked). */
  focus: string | null;
  hover: string | null;
  /** Versions undone, to redo (most recent last). */
  redo: number[];
  /** Bumped to ask the graph to fit the view / centre a node. */
  fitSeq: number;
  center: { id: string; seq: number } | null;
  editing: boolean;
  notice: { kind: 'info' | 'error'; text: string; seq: number } | null;

  discoverForm: DiscoverForm;
  estimate: { loading: boolean; result: Estimate | null; error: string | null; key: string | null };
  discoverJob: JobView | null;
  discoverError: string | null;

  ablateJob: JobView | null;
  ablateError: string | null;
  /** The experiment shown in the Ablate panel. */
  experimentId: number | null;

  evaluateJob: JobView | null;
  evaluateError: string | null;
  evaluationId: number | null;

  examples: { nodeId: string | null; job: JobView | null; result: FeatureExamples | null; error: string | null };

  hub: HubState;
  shift: ShiftState;

  compare: {
    a: number | null;
    b: number | null;
    threshold: number;
    loading: boolean;
    error: string | null;
    result: Comparison | null;
    circuitA: StoredCircuit | null;
    circuitB: StoredCircuit | null;
  };
}

/** The engine's own defaults (DiscoverSettings in src-main/api/contract.ts), as `sfc discover` has them. */
export const DEFAULT_DISCOVER: DiscoverForm = {
  modelId: null,
  saeSetId: null,
  datasetId: null,
  method: 'ig',
  steps: 10,
  aggregation: 'sum',
  nodeThreshold: 0.1,
  edgeThreshold: 0.01,
  n: 100,
  batchSize: 10,
  name: '',
};

export const initialState: State = {
  connection: { status: 'connecting', detail: null },
  appInfo: null,
  appInfoError: null,
  model: { info: null, loading: false, error: null },
  predict: { running: false, progress: null, result: null, error: null },
  library: null,
  librarySearch: '',
  libraryError: null,
  imports: [],
  dragging: false,
  view: 'graph',
  side: 'inspector',
  circuit: null,
  opening: null,
  openError: null,
  annotations: new Map(),
  annotationText: new Map(),
  nodeThreshold: 0,
  edgeThreshold: 0,
  search: '',
  selection: new Set(),
  focus: null,
  hover: null,
  redo: [],
  fitSeq: 0,
  center: null,
  editing: false,
  notice: null,
  discoverForm: DEFAULT_DISCOVER,
  estimate: { loading: false, result: null, error: null, key: null },
  discoverJob: null,
  discoverError: null,
  ablateJob: null,
  ablateError: null,
  experimentId: null,
  evaluateJob: null,
  evaluateError: null,
  evaluationId: null,
  examples: { nodeId: null, job: null, result: null, error: null },
  hub: {
    setups: null,
    setupsError: null,
    fetchJob: null,
    fetchNote: null,
    inspect: { path: '', loading: false, result: null, error: null, added: null },
    cache: { loading: false, listing: null, error: null, note: null },
  },
  shift: { demo: null, demoLoading: false, error: null, probe: null, probeJob: null, circuit: null, discovery: null, discoverJob: null, features: null, featuresJob: null, judgements: new Map(), run: null, runJob: null },
  compare: { a: null, b: null, threshold: 0, loading: false, error: null, result: null, circuitA: null, circuitB: null },
};
