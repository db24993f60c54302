/**
 * Everything the UI does through the API, as actions on the one store. Components read the
 * store and call these; none of them talks to the API directly. A failed or cancelled job says
 * so and leaves what was on screen as it was.
 */
import type { CallName, EventPayload, JobName, Request, Response } from '../../../src-main/api/contract';
import type { CircuitEdit } from '../../../src-main/store/records';
import { circuitToSvg, positionFreeId, METRIC_NODE } from '../../../src-main/view';
import { ApiCallError, MAX_IMPORT_BYTES, connect, type ApiClient } from '../api/client';
import type { NeuronpediaLinks } from '../util/neuronpedia';
import { buildGraphModel } from '../graph/model';
import { downloadBlob, downloadText, safeFileName, svgToPng } from '../util/download';
import { fmtNum } from '../util/format';
import { describeEdit, nextRedoStack, progressJob, redoTarget, startJob, undoTarget } from './history';
import type { Store } from './store';
import { createHubActions } from './hub-actions';
import { createShiftActions } from './shift-actions';
import { DEFAULT_DISCOVER, type AblateMode, type AnnotationRecord, type DiscoverForm, type ImportNote, type JobView, type SideTab, type State, type StoredCircuit, type ViewName } from './types';

/** The desktop menu's commands (src-main/app/menu.ts). */
type AppCommandListener = (command: EventPayload<'app.command'>['command']) => void;

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const cancelled = (e: unknown): boolean => e instanceof ApiCallError && e.error.code === 'cancelled';

type JobSlot = 'discoverJob' | 'ablateJob' | 'evaluateJob';

export type Actions = ReturnType<typeof createActions>;

export function createActions(store: Store<State>) {
  const { get, set } = store;
  let api: ApiClient | null = null;
  let noticeSeq = 0;
  let importSeq = 0;
  let openSeq = 0;
  let fitSeq = 0;
  let centerSeq = 0;
  let estimateSeq = 0;
  const aborts = new Map<string, AbortController>();

  const notify = (kind: 'info' | 'error', text: string): void => set({ notice: { kind, text, seq: ++noticeSeq } });
  const linkCache = new Map<number, Promise<NeuronpediaLinks | null>>();
  const commandListeners = new Set<AppCommandListener>();
  const need = (): ApiClient => {
    if (!api) throw new Error('not connected to the engine');
    return api;
  };
  const call = <C extends CallName>(c: C, r: Request<C>): Promise<Response<C>> => need().call(c, r);

  /** Runs a job into one of the job slots, with progress; a new run of the same slot cancels the old. */
  async function runJob<C extends JobName>(slot: JobSlot | null, key: string, channel: C, req: Request<C>, onProgress?: (j: JobView) => void): Promise<Response<C>> {
    aborts.get(key)?.abort();
    const abort = new AbortController();
    aborts.set(key, abort);
    let view = startJob(Date.now());
    if (slot) set({ [slot]: view } as Partial<State>);
    try {
      return await need().job(channel, req, {
        signal: abort.signal,
        onProgress: (f, m) => {
          view = progressJob(view, f, m, Date.now());
          if (slot) set({ [slot]: view } as Partial<State>);
          onProgress?.(view);
        },
      });
    } finally {
      if (aborts.get(key) === abort) aborts.delete(key);
      if (slot) set({ [slot]: null } as Partial<State>);
    }
  }
  const cancel = (key: string): void => aborts.get(key)?.abort();

  // ---- connection, library ------------------------------------------------------------------

  function init(): void {
    api = connect((status, detail) => set({ connection: { status, detail: detail ?? null } }));
    if (!api) return;
    const client = api;
    client.on('app.command', (p) => commandListeners.forEach((cb) => cb(p.command)));
    client
      .call('app.info', {})
      .then(async (info) => {
        set({ appInfo: info, appInfoError: null });
        await refreshLibrary();
        const restore = /(?:^#|&)circuit=(\d+)/.exec(location.hash);
        if (restore) await openCircuit(Number(restore[1]), 'open');
        const view = /(?:^#|&)view=(\w+)/.exec(location.hash)?.[1];
        if (view === 'discover' || view === 'evaluate' || view === 'compare' || view === 'graph' || view === 'shift') set({ view });
        if (!info.model) return;
        set({ model: { info: null, loading: true, error: null } });
        try {
          set({ model: { info: await client.job('model.info', {}), loading: false, error: null } });
        } catch (e) {
          set({ model: { info: null, loading: false, error: message(e) } });
        }
      })
      .catch((e: unknown) => set({ appInfoError: message(e) }));
  }

  async function refreshLibrary(): Promise<void> {
    try {
      const q = get().librarySearch.trim();
      const library = await call('library.list', q ? { search: q } : {});
      set({ library, libraryError: null });
      fillDiscoverDefaults();
    } catch (e) {
      set({ libraryError: message(e) });
    }
  }

  /** The Discover form starts on the demo: its model, its SAEs and a paired dataset. */
  function fillDiscoverDefaults(): void {
    const { library, discoverForm: f } = get();
    if (!library) return;
    const patch: Partial<DiscoverForm> = {};
    if (f.modelId === null || !library.models.some((m) => m.id === f.modelId)) patch.modelId = library.models[0]?.id ?? null;
    const modelId = patch.modelId ?? f.modelId;
    if (f.saeSetId === null || !library.saeSets.some((s) => s.id === f.saeSetId)) {
      patch.saeSetId = library.saeSets.find((s) => s.modelId === modelId && s.layout !== 'identity')?.id ?? null;
    }
    if (f.datasetId === null || !library.datasets.some((d) => d.id === f.datasetId)) {
      patch.datasetId = (library.datasets.find((d) => /simple \(train\)/.test(d.name)) ?? library.datasets[0])?.id ?? null;
    }
    if (Object.keys(patch).length) set({ discoverForm: { ...f, ...patch } });
  }

  function writeHash(): void {
    const { circuit, view } = get();
    const parts = [circuit ? `circuit=${circuit.summary.id}` : '', view !== 'graph' ? `view=${view}` : ''].filter(Boolean);
    const hash = parts.length ? `#${parts.join('&')}` : '';
    if (location.hash !== hash) history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
  }

  // ---- import (drag and drop) ---------------------------------------------------------------

  async function importOne(file: File): Promise<ImportNote> {
    const id = ++importSeq;
    const client = need();
    const c = get().circuit;
    // The desktop app hands the main process the dropped file's path (it reads and checks the
    // file itself); the served UI sends the text, within the store's import cap.
    const path = client.pathForFile(file);
    let req: Request<'library.import'>;
    let head = '';
    if (path) req = { source: { path } };
    else {
      if (file.size > MAX_IMPORT_BYTES) return { id, file: file.name, ok: false, message: `${file.name}: too large (${(file.size / 2 ** 20).toFixed(1)} MiB; the limit is 64 MiB)` };
      let text: string;
      try {
        text = await file.text();
      } catch (e) {
        return { id, file: file.name, ok: false, message: `${file.name}: could not be read (${message(e)})` };
      }
      req = { source: { name: file.name, text } };
      head = text.slice(0, 2000);
    }
    // Annotations go to the open circuit's SAE set; with none open the store picks the only one.
    if (c?.summary.saeSetId && /\.jsonl$/i.test(file.name) && !/"clean_prefix"/.test(head || (await file.slice(0, 2000).text()))) req.saeSetId = c.summary.saeSetId;
    try {
      const r = await client.call('library.import', req);
      if (r.kind === 'dataset') return { id, file: file.name, ok: true, message: `dataset “${r.name}”: ${r.examples} examples`, datasetId: r.id };
      if (r.kind === 'circuit') {
        void openCircuit(r.id, 'open');
        return { id, file: file.name, ok: true, message: `circuit “${r.name}”: ${r.nodes} nodes, ${r.edges ?? 'no'} edges`, warnings: r.warnings };
      }
      if (get().circuit) void reloadAnnotations();
      return {
        id,
        file: file.name,
        ok: true,
        message: `annotations: ${r.imported} imported, ${r.unchanged} unchanged${r.skipped.length ? `, ${r.skipped.length} skipped` : ''}`,
        warnings: r.skipped.slice(0, 5).map((s) => `line ${s.line}: ${s.reason}`),
      };
    } catch (e) {
      // The store's messages already name the file and the problem.
      const m = message(e);
      return { id, file: file.name, ok: false, message: m.includes(file.name) ? m : `${file.name}: ${m}` };
    }
  }

  async function importFiles(files: File[]): Promise<void> {
    for (const f of files) {
      const note = await importOne(f);
      set((s) => ({ imports: [note, ...s.imports].slice(0, 10) }));
    }
    await refreshLibrary();
  }

  // ---- circuits -----------------------------------------------------------------------------

  async function openCircuit(id: number, how: 'open' | 'undo' | 'redo' | 'jump' | 'edit'): Promise<boolean> {
    const seq = ++openSeq;
    const prev = get().circuit;
    // Marks for the editor benchmark (test/bench/editor.bench.ts): fetch, model, first paint.
    performance.mark(`sfc:open:${id}:start`);
    set({ opening: id, openError: null });
    try {
      const client = need();
      const [got, history, results, annotations] = await Promise.all([
        client.call('circuit.get', { id }),
        client.call('circuit.history', { id }),
        client.call('circuit.results', { id }),
        client.call('annotation.forCircuit', { circuitId: id }),
      ]);
      if (seq !== openSeq) return false;
      const circuit = got.circuit as unknown as StoredCircuit;
      const sameRoot = !!prev && prev.summary.rootId === got.summary.rootId;
      // A later version of the same circuit keeps its parent's places, so nothing moves on undo.
      performance.mark(`sfc:open:${id}:fetched`);
      const graph = buildGraphModel(circuit, { layout: sameRoot ? prev.graph.layout : undefined });
      performance.mark(`sfc:open:${id}:model`);
      const s = get();
      const redo = prev && how !== 'open' ? nextRedoStack(s.redo, prev.summary, id, how === 'edit' ? 'jump' : how) : [];
      const selection = new Set([...s.selection].filter((n) => graph.nodeById.has(n)));
      const p = got.summary.parameters as { nodeThreshold?: number; edgeThreshold?: number };
      set({
        circuit: { summary: got.summary, circuit, graph, history, evaluations: results.evaluations, experiments: results.experiments },
        opening: null,
        ...annotationState(annotations),
        redo,
        selection: sameRoot ? selection : new Set(),
        focus: sameRoot && s.focus && graph.nodeById.has(s.focus) ? s.focus : null,
        nodeThreshold: sameRoot ? s.nodeThreshold : (p.nodeThreshold ?? 0),
        edgeThreshold: sameRoot ? s.edgeThreshold : (p.edgeThreshold ?? 0),
        search: sameRoot ? s.search : '',
        evaluationId: results.evaluations.at(-1)?.id ?? null,
        experimentId: results.experiments.at(-1)?.id ?? null,
        ablateError: null,
        evaluateError: null,
        fitSeq: sameRoot ? s.fitSeq : ++fitSeq,
        compare: sameRoot ? s.compare : { ...s.compare, a: got.summary.parentId ?? got.summary.id, b: got.summary.id, result: null, circuitA: null, circuitB: null, error: null },
      });
      if (!sameRoot && s.view === 'discover') set({ view: 'graph' });
      writeHash();
      return true;
    } catch (e) {
      if (seq !== openSeq) return false;
      set({ opening: null, openError: message(e) });
      notify('error', `Could not open circuit ${id}: ${message(e)}`);
      return false;
    }
  }

  function annotationState(list: AnnotationRecord[]): Pick<State, 'annotations' | 'annotationText'> {
    const annotations = new Map<string, AnnotationRecord>();
    const text = new Map<string, string>();
    for (const a of list) {
      const k = `${a.submodule}/${a.feature}`;
      annotations.set(k, a);
      if (a.text.trim()) text.set(k, a.text);
    }
    return { annotations, annotationText: text };
  }

  async function reloadAnnotations(): Promise<void> {
    const c = get().circuit;
    if (!c) return;
    try {
      set(annotationState(await call('annotation.forCircuit', { circuitId: c.summary.id })));
    } catch (e) {
      notify('error', message(e));
    }
  }

  function closeCircuit(): void {
    set({ circuit: null, selection: new Set(), focus: null, redo: [] });
    writeHash();
  }

  async function applyEdit(edit: CircuitEdit): Promise<void> {
    const c = get().circuit;
    if (!c || get().editing) return;
    set({ editing: true });
    try {
      const s = await call('circuit.edit', { id: c.summary.id, edit });
      if (edit.op === 'prune' || edit.op === 'keepOnly') set({ selection: new Set(), focus: null });
      await openCircuit(s.id, 'edit');
      notify('info', `Version ${s.id}: ${describeEdit(s)}. Undo with Ctrl+Z.`);
      void refreshLibrary();
    } catch (e) {
      notify('error', `The edit was not made: ${message(e)}`);
    } finally {
      set({ editing: false });
    }
  }

  const selectedNodes = (): string[] => [...get().selection].filter((id) => id !== METRIC_NODE);

  // ---- selection ----------------------------------------------------------------------------

  function select(ids: string[], mode: 'replace' | 'toggle' | 'add'): void {
    const cur = get().selection;
    let next: Set<string>;
    if (mode === 'replace') next = new Set(ids);
    else {
      next = new Set(cur);
      for (const id of ids) {
        if (mode === 'toggle' && next.has(id)) next.delete(id);
        else next.add(id);
      }
    }
    const focus = ids.length === 1 && next.has(ids[0]) ? ids[0] : next.size === 0 ? null : get().focus && next.has(get().focus!) ? get().focus : ([...next].at(-1) ?? null);
    set({ selection: next, focus });
    if (focus && focus !== METRIC_NODE && get().side !== 'inspector' && ids.length === 1 && mode === 'replace' && get().side !== 'ablate') set({ side: 'inspector' });
  }

  // ---- jobs ---------------------------------------------------------------------------------

  function discoverRequest(f: DiscoverForm): Request<'circuit.discover'> | null {
    if (f.modelId === null || f.datasetId === null) return null;
    return {
      modelId: f.modelId,
      saeSetId: f.saeSetId,
      datasetId: f.datasetId,
      method: f.method,
      steps: f.steps,
      aggregation: f.aggregation,
      nodeThreshold: f.nodeThreshold,
      edgeThreshold: f.edgeThreshold,
      n: f.n,
      batchSize: f.batchSize,
      ...(f.name.trim() ? { name: f.name.trim() } : {}),
    };
  }

  async function estimate(): Promise<void> {
    const req = discoverRequest(get().discoverForm);
    if (!req) return;
    const { name: _name, ...settings } = req;
    const key = JSON.stringify(settings);
    if (get().estimate.key === key && (get().estimate.result || get().estimate.loading)) return;
    const seq = ++estimateSeq;
    set({ estimate: { loading: true, result: null, error: null, key } });
    try {
      const result = await runJob(null, 'estimate', 'circuit.estimate', settings);
      if (seq === estimateSeq) set({ estimate: { loading: false, result, error: null, key } });
    } catch (e) {
      if (seq === estimateSeq) set({ estimate: { loading: false, result: null, error: cancelled(e) ? null : message(e), key: cancelled(e) ? null : key } });
    }
  }

  async function discover(): Promise<void> {
    const req = discoverRequest(get().discoverForm);
    if (!req || get().discoverJob) return;
    set({ discoverError: null });
    try {
      const res = await runJob('discoverJob', 'discover', 'circuit.discover', req);
      await refreshLibrary();
      const opened = await openCircuit(res.circuit.id, 'open');
      if (opened) set({ view: 'graph' });
      const notes = [res.dataReport.note, ...res.notes].filter(Boolean).join(' ');
      notify('info', `Discovered “${res.circuit.name}” in ${res.seconds.toFixed(1)} s: ${res.circuit.nodes} nodes, ${res.circuit.edges ?? 'no'} edges.${notes ? ` ${notes}` : ''}`);
      writeHash();
    } catch (e) {
      set({ discoverError: cancelled(e) ? 'Cancelled. Nothing was saved; the open circuit is unchanged.' : `Discovery failed: ${message(e)}` });
    }
  }

  async function ablate(o: { mode: AblateMode; n: number; datasetId?: number }): Promise<void> {
    const c = get().circuit;
    if (!c || get().ablateJob) return;
    const nodes = selectedNodes()
      .map((id) => c.graph.nodeById.get(id))
      .filter((n) => n !== undefined)
      .map((n) => ({ submodule: n.submodule, feature: n.feature, ...(n.position !== undefined ? { position: n.position } : {}) }));
    if (!nodes.length) {
      set({ ablateError: 'Select one or more nodes in the graph first.' });
      return;
    }
    set({ ablateError: null });
    try {
      const res = await runJob('ablateJob', 'ablate', 'circuit.ablate', { circuitId: c.summary.id, nodes, mode: o.mode, n: o.n, ...(o.datasetId ? { datasetId: o.datasetId } : {}) });
      const cur = get().circuit;
      if (cur && cur.summary.id === res.circuitId) set({ circuit: { ...cur, experiments: [...cur.experiments, res] }, experimentId: res.id });
      const r = res.result;
      notify('info', `Experiment ${res.id}: ${r.metric} ${fmtNum(r.meanBefore)} → ${fmtNum(r.meanAfter)} (mean over ${r.before.length} examples).`);
    } catch (e) {
      set({ ablateError: cancelled(e) ? 'Cancelled; no experiment was saved.' : `The experiment failed: ${message(e)}` });
    }
  }

  async function evaluate(o: { n: number; ablation: 'mean' | 'zero' | 'resample'; errors: 'all' | 'none' | 'resid-only'; datasetId?: number; single?: boolean }): Promise<void> {
    const c = get().circuit;
    if (!c || get().evaluateJob) return;
    set({ evaluateError: null });
    try {
      const res = await runJob('evaluateJob', 'evaluate', 'circuit.evaluate', {
        circuitId: c.summary.id,
        n: o.n,
        ablation: o.ablation,
        errors: o.errors,
        ...(o.datasetId ? { datasetId: o.datasetId } : {}),
        ...(o.single ? { thresholds: [get().nodeThreshold] } : {}),
      });
      const cur = get().circuit;
      if (cur && cur.summary.id === res.circuitId) set({ circuit: { ...cur, evaluations: [...cur.evaluations, res] }, evaluationId: res.id });
    } catch (e) {
      set({ evaluateError: cancelled(e) ? 'Cancelled; no evaluation was saved.' : `Evaluation failed: ${message(e)}` });
    }
  }

  async function loadExamples(nodeId: string): Promise<void> {
    const c = get().circuit;
    const n = c?.graph.nodeById.get(nodeId);
    if (!c || !n) return;
    set({ examples: { nodeId, job: startJob(Date.now()), result: null, error: null } });
    try {
      const result = await runJob(null, 'examples', 'feature.examples', { circuitId: c.summary.id, submodule: n.submodule, feature: n.feature }, (job) => {
        if (get().examples.nodeId === nodeId) set({ examples: { ...get().examples, job } });
      });
      if (get().examples.nodeId === nodeId) set({ examples: { nodeId, job: null, result, error: null } });
    } catch (e) {
      if (get().examples.nodeId === nodeId) set({ examples: { nodeId, job: null, result: null, error: cancelled(e) ? null : message(e) } });
    }
  }

  // ---- export -------------------------------------------------------------------------------

  function figureSvg(): { svg: string; base: string } | null {
    const s = get();
    const c = s.circuit;
    if (!c) return null;
    const svg = circuitToSvg(c.circuit, { annotations: s.annotationText, nodeThreshold: s.nodeThreshold, edgeThreshold: s.edgeThreshold, title: `${c.summary.name} · version ${c.summary.id}` });
    return { svg, base: safeFileName(`${c.summary.name} v${c.summary.id}`) };
  }

  const parts = { get, set, call, runJob, cancel, refreshLibrary, message, cancelled };
  return {
    ...createHubActions(parts),
    ...createShiftActions(parts),
    init,
    refreshLibrary,
    setLibrarySearch(q: string) {
      set({ librarySearch: q });
    },
    importFiles,
    dismissImport(id: number) {
      set((s) => ({ imports: s.imports.filter((n) => n.id !== id) }));
    },
    setDragging(dragging: boolean) {
      set({ dragging });
    },
    async renameItem(kind: 'dataset' | 'circuit', id: number, name: string) {
      try {
        await call('library.rename', { kind, id, name });
        await refreshLibrary();
        const c = get().circuit;
        if (kind === 'circuit' && c && c.summary.rootId === id) await openCircuit(c.summary.id, 'jump');
      } catch (e) {
        notify('error', message(e));
      }
    },
    async tagItem(kind: 'dataset' | 'circuit', id: number, tags: string[]) {
      try {
        await call('library.tag', { kind, id, tags });
        await refreshLibrary();
      } catch (e) {
        notify('error', message(e));
      }
    },
    async deleteItem(kind: 'dataset' | 'circuit', id: number) {
      try {
        await call('library.delete', { kind, id });
        if (kind === 'circuit' && get().circuit?.summary.id === id) {
          const parent = get().circuit!.summary.parentId;
          if (parent) await openCircuit(parent, 'jump');
          else closeCircuit();
        }
        await refreshLibrary();
      } catch (e) {
        notify('error', message(e));
      }
    },
    openCircuit: (id: number) => openCircuit(id, 'open'),
    jumpToVersion: (id: number) => openCircuit(id, 'jump'),
    closeCircuit,
    setView(view: ViewName) {
      set({ view });
      writeHash();
    },
    setSide(side: SideTab) {
      set({ side });
    },
    setThreshold(which: 'node' | 'edge', v: number) {
      set(which === 'node' ? { nodeThreshold: v } : { edgeThreshold: v });
    },
    setSearch(search: string) {
      set({ search });
    },
    select,
    clearSelection() {
      set({ selection: new Set(), focus: null });
    },
    /** Selects one node and brings it into view (the Inspector's edge lists, search results). */
    jumpTo(id: string) {
      select([id], 'replace');
      set({ center: { id, seq: ++centerSeq } });
    },
    setHover(hover: string | null) {
      if (get().hover !== hover) set({ hover });
    },
    fit() {
      set({ fitSeq: ++fitSeq });
    },
    prune: () => {
      const nodes = selectedNodes();
      if (nodes.length) void applyEdit({ op: 'prune', nodes });
    },
    keepOnly: () => {
      const nodes = selectedNodes();
      if (nodes.length) void applyEdit({ op: 'keepOnly', nodes });
    },
    group: (name: string) => {
      const nodes = selectedNodes();
      if (nodes.length && name.trim()) void applyEdit({ op: 'group', name: name.trim(), nodes });
    },
    ungroup: (name: string) => void applyEdit({ op: 'ungroup', name }),
    async undo() {
      const c = get().circuit;
      if (!c || get().editing) return;
      const to = undoTarget(c.summary);
      if (to === null) return notify('info', 'Nothing to undo: this is the discovered circuit.');
      if (await openCircuit(to, 'undo')) notify('info', `Undid “${describeEdit(c.summary)}”: back to version ${to}.`);
    },
    async redo() {
      const c = get().circuit;
      if (!c || get().editing) return;
      const to = redoTarget(c.summary, c.history, get().redo);
      if (to === null) return notify('info', 'Nothing to redo.');
      if (await openCircuit(to, 'redo')) notify('info', `Redid: version ${to}.`);
    },
    async labelVersion(label: string) {
      const c = get().circuit;
      if (!c) return;
      try {
        await call('circuit.label', { id: c.summary.id, label: label.trim() || null });
        await openCircuit(c.summary.id, 'jump');
        await refreshLibrary();
      } catch (e) {
        notify('error', message(e));
      }
    },
    async saveAnnotation(nodeId: string, text: string, notes: string | null): Promise<boolean> {
      const c = get().circuit;
      const n = c?.graph.nodeById.get(nodeId);
      if (!c || !n) return false;
      if (c.summary.saeSetId === null) {
        notify('error', 'This circuit has no SAE set in the library, so its features cannot be annotated.');
        return false;
      }
      try {
        const rec = await call('annotation.set', { saeSetId: c.summary.saeSetId, submodule: n.submodule, feature: n.feature, text, notes });
        const key = positionFreeId(nodeId);
        const annotations = new Map(get().annotations);
        const annotationText = new Map(get().annotationText);
        if (rec) annotations.set(key, rec);
        else annotations.delete(key);
        if (rec && rec.text.trim()) annotationText.set(key, rec.text);
        else annotationText.delete(key);
        set({ annotations, annotationText });
        return true;
      } catch (e) {
        notify('error', `The annotation was not saved: ${message(e)}`);
        return false;
      }
    },
    annotationHistory(nodeId: string) {
      const c = get().circuit;
      const n = c?.graph.nodeById.get(nodeId);
      if (!c || !n || c.summary.saeSetId === null) return Promise.resolve([]);
      return call('annotation.history', { saeSetId: c.summary.saeSetId, submodule: n.submodule, feature: n.feature });
    },
    loadExamples,
    cancelExamples: () => cancel('examples'),
    /** The desktop menu's commands (app.command); a no-op subscription before connecting. */
    onAppCommand(cb: AppCommandListener): () => void {
      commandListeners.add(cb);
      return () => commandListeners.delete(cb);
    },
    /** Neuronpedia pages of an SAE set's features (hub.links), asked once per set. */
    neuronpediaLinks(saeSetId: number): Promise<NeuronpediaLinks | null> {
      let p = linkCache.get(saeSetId);
      if (!p) {
        p = call('hub.links', { saeSetId }).then(
          (r) => r.neuronpedia,
          () => null,
        );
        linkCache.set(saeSetId, p);
      }
      return p;
    },
    setDiscoverForm(patch: Partial<DiscoverForm>) {
      set({ discoverForm: { ...get().discoverForm, ...patch } });
    },
    resetDiscoverForm() {
      set({ discoverForm: { ...DEFAULT_DISCOVER } });
      fillDiscoverDefaults();
    },
    estimate,
    discover,
    cancelDiscover: () => cancel('discover'),
    ablate,
    cancelAblate: () => cancel('ablate'),
    showExperiment(id: number) {
      set({ experimentId: id, side: 'ablate' });
    },
    evaluate,
    cancelEvaluate: () => cancel('evaluate'),
    showEvaluation(id: number) {
      set({ evaluationId: id });
    },
    setCompare(patch: Partial<Pick<State['compare'], 'a' | 'b' | 'threshold'>>) {
      set({ compare: { ...get().compare, ...patch } });
    },
    async compare() {
      const { a, b, threshold } = get().compare;
      if (a === null || b === null) return;
      set({ compare: { ...get().compare, loading: true, error: null } });
      try {
        const [result, ga, gb] = await Promise.all([call('circuit.compare', { a, b, threshold }), call('circuit.get', { id: a }), call('circuit.get', { id: b })]);
        set({ compare: { ...get().compare, loading: false, result, circuitA: ga.circuit as unknown as StoredCircuit, circuitB: gb.circuit as unknown as StoredCircuit } });
      } catch (e) {
        set({ compare: { ...get().compare, loading: false, error: message(e) } });
      }
    },
    async exportCircuitJson() {
      const c = get().circuit;
      if (!c) return;
      try {
        const r = await call('circuit.export', { id: c.summary.id });
        downloadText(r.fileName, r.text, 'application/json');
      } catch (e) {
        notify('error', `Export failed: ${message(e)}`);
      }
    },
    async exportAnnotations() {
      const c = get().circuit;
      if (!c || c.summary.saeSetId === null) return notify('error', 'This circuit has no SAE set, so there are no annotations to export.');
      try {
        const r = await call('annotation.export', { saeSetId: c.summary.saeSetId });
        downloadText(r.fileName, r.text, 'application/x-ndjson');
      } catch (e) {
        notify('error', `Export failed: ${message(e)}`);
      }
    },
    exportSvg() {
      const f = figureSvg();
      if (f) downloadText(`${f.base}.svg`, f.svg, 'image/svg+xml');
    },
    async exportPng() {
      const f = figureSvg();
      if (!f) return;
      try {
        downloadBlob(`${f.base}.png`, await svgToPng(f.svg));
      } catch (e) {
        notify('error', `PNG export failed: ${message(e)}`);
      }
    },
    dismissNotice() {
      set({ notice: null });
    },
    notify,
    // The next-token panel of a configured model (kept from the first UI).
    predict(text: string, top = 10) {
      set({ predict: { running: true, progress: null, result: null, error: null } });
      runJob(null, 'predict', 'model.predict', { text, top }, (j) => set({ predict: { ...get().predict, progress: j.message } }))
        .then((result) => set({ predict: { running: false, progress: null, result, error: null } }))
        .catch((e: unknown) => set({ predict: { ...get().predict, running: false, progress: null, error: message(e) } }));
    },
    cancelPredict: () => cancel('predict'),
  };
}
