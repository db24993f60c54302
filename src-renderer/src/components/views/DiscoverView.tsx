/**
 * Discover a circuit: pick model, SAEs, dataset, method and thresholds; the estimate of time
 * and peak memory updates as the settings change, and a run that will not fit is refused
 * before it starts. The run is a job (progress, ETA, Cancel); the circuit opens when done.
 */
import React, { useEffect, useId } from 'react';
import { useActions, useAppState } from '../../state/context';
import type { DiscoverForm } from '../../state/types';
import { fmtBytes, fmtDuration, plural } from '../../util/format';
import { JobBar } from '../JobBar';

export function DiscoverView(): React.JSX.Element {
  const actions = useActions();
  const library = useAppState((s) => s.library);
  const f = useAppState((s) => s.discoverForm);
  const estimate = useAppState((s) => s.estimate);
  const job = useAppState((s) => s.discoverJob);
  const error = useAppState((s) => s.discoverError);
  const ids = {
    model: useId(),
    sae: useId(),
    data: useId(),
    method: useId(),
    steps: useId(),
    agg: useId(),
    nt: useId(),
    et: useId(),
    n: useId(),
    batch: useId(),
    name: useId(),
  };

  // Re-estimate shortly after the settings stop changing (a quick job: it times one MatMul).
  useEffect(() => {
    const t = setTimeout(() => void actions.estimate(), 400);
    return () => clearTimeout(t);
  }, [f, actions]);

  const set = (patch: Partial<DiscoverForm>): void => actions.setDiscoverForm(patch);
  const num = (v: string, min: number): number => Math.max(min, Number(v) || 0);
  const models = library?.models ?? [];
  const saeSets = (library?.saeSets ?? []).filter((s) => s.layout !== 'identity' && (f.modelId === null || s.modelId === f.modelId || s.modelId === null));
  const dataset = library?.datasets.find((d) => d.id === f.datasetId);
  const est = estimate.result;
  const refused = est !== null && !est.fits;
  const ready = f.modelId !== null && f.datasetId !== null;

  return (
    <div className="view discover" data-testid="discover-view">
      <h2>Discover a circuit</h2>
      <form
        className="form-grid wide"
        onSubmit={(e) => {
          e.preventDefault();
          void actions.discover();
        }}
      >
        <label htmlFor={ids.model}>Model</label>
        <select id={ids.model} value={f.modelId ?? ''} onChange={(e) => set({ modelId: e.target.value ? Number(e.target.value) : null })}>
          {models.map((m) => (
            <option key={m.id} value={m.id}>
              {m.name}
            </option>
          ))}
        </select>
        <label htmlFor={ids.sae}>SAEs</label>
        <select id={ids.sae} value={f.saeSetId ?? ''} onChange={(e) => set({ saeSetId: e.target.value ? Number(e.target.value) : null })}>
          {saeSets.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
          <option value="">none: neurons</option>
        </select>
        <label htmlFor={ids.data}>Dataset</label>
        <select id={ids.data} value={f.datasetId ?? ''} onChange={(e) => set({ datasetId: e.target.value ? Number(e.target.value) : null })}>
          {library?.datasets.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name} ({d.examples}{d.kind === 'cluster' ? ', no pairs' : ''})
            </option>
          ))}
        </select>
        <label htmlFor={ids.method}>Method</label>
        <select id={ids.method} value={f.method} onChange={(e) => set({ method: e.target.value as DiscoverForm['method'] })}>
          <option value="ig">integrated gradients (ig)</option>
          <option value="attrib">attribution patching (attrib)</option>
          <option value="exact">exact activation patching (exact)</option>
        </select>
        {f.method === 'ig' && (
          <>
            <label htmlFor={ids.steps}>IG steps</label>
            <input id={ids.steps} type="number" min={1} max={1000} value={f.steps} onChange={(e) => set({ steps: num(e.target.value, 1) })} />
          </>
        )}
        <label htmlFor={ids.agg}>Aggregation</label>
        <select id={ids.agg} value={f.aggregation} onChange={(e) => set({ aggregation: e.target.value as DiscoverForm['aggregation'] })}>
          <option value="none">per token position (none)</option>
          <option value="sum">summed over positions (sum)</option>
        </select>
        <label htmlFor={ids.nt}>Node threshold</label>
        <input id={ids.nt} type="number" min={0} step="any" value={f.nodeThreshold} onChange={(e) => set({ nodeThreshold: num(e.target.value, 0) })} />
        <label htmlFor={ids.et}>Edge threshold</label>
        <input id={ids.et} type="number" min={0} step="any" value={f.edgeThreshold} onChange={(e) => set({ edgeThreshold: num(e.target.value, 0) })} />
        <label htmlFor={ids.n}>Examples (N)</label>
        <input id={ids.n} type="number" min={1} max={100000} value={f.n} onChange={(e) => set({ n: num(e.target.value, 1) })} />
        <label htmlFor={ids.batch}>Batch size</label>
        <input id={ids.batch} type="number" min={1} max={10000} value={f.batchSize} onChange={(e) => set({ batchSize: num(e.target.value, 1) })} />
        <label htmlFor={ids.name}>Name</label>
        <input id={ids.name} value={f.name} maxLength={200} placeholder={dataset ? `${dataset.name} ${f.method}${f.aggregation === 'none' ? ' per position' : ''}` : 'circuit name'} onChange={(e) => set({ name: e.target.value })} />

        <div className="estimate" aria-live="polite" data-testid="estimate">
          <h3>Estimate</h3>
          {estimate.loading && <p className="muted">Estimating…</p>}
          {estimate.error && <p className="error">{estimate.error}</p>}
          {est && (
            <dl>
              <dt>Time</dt>
              <dd>{est.seconds < 1 ? 'under 1 s' : `about ${fmtDuration(est.seconds)}`}</dd>
              <dt>Peak memory</dt>
              <dd>
                {fmtBytes(est.peakBytes)} of {fmtBytes(est.availableBytes)} available
              </dd>
              <dt>Tokens</dt>
              <dd>{plural(est.tokens, 'token')}</dd>
            </dl>
          )}
          {refused && (
            <p className="error" role="alert">
              Will not fit: {est.reason ?? 'not enough memory'}. Lower the batch size or the number of examples.
            </p>
          )}
          {dataset?.kind === 'cluster' && <p className="muted">Cluster data has no pairs: the metric is the answer's logit; evaluate the circuit's faithfulness on a paired dataset.</p>}
        </div>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={!ready || !!job || refused || estimate.loading}>
            Discover
          </button>
          <button type="button" onClick={actions.resetDiscoverForm} disabled={!!job}>
            Reset
          </button>
        </div>
      </form>
      {job && <JobBar job={job} label="Discovering" onCancel={actions.cancelDiscover} />}
      {error && (
        <p className={error.startsWith('Cancelled') ? 'notice-box' : 'error'} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
