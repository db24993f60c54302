/**
 * Evaluate the open version: faithfulness and completeness over the paper's node-threshold
 * sweep (mean ablation by default) as two line charts, the current threshold marked; a click on
 * a point sets the graph's node threshold. Every run is saved as an evaluation of the version.
 */
import React, { useId, useMemo, useState } from 'react';
import { NEGATIVE_COLOR, POSITIVE_COLOR } from '../../../../src-main/view';
import { useActions, useAppState } from '../../state/context';
import type { Evaluation } from '../../state/types';
import { fmtDate, fmtNum } from '../../util/format';
import { JobBar } from '../JobBar';
import { SweepChart, type SweepPoint } from './SweepChart';

export function EvaluateView(): React.JSX.Element {
  const actions = useActions();
  const circuit = useAppState((s) => s.circuit);
  const job = useAppState((s) => s.evaluateJob);
  const error = useAppState((s) => s.evaluateError);
  const evaluationId = useAppState((s) => s.evaluationId);
  const nodeThreshold = useAppState((s) => s.nodeThreshold);
  const library = useAppState((s) => s.library);
  const [n, setN] = useState(40);
  const [ablation, setAblation] = useState<'mean' | 'zero' | 'resample'>('mean');
  const [errors, setErrors] = useState<'all' | 'none' | 'resid-only'>('all');
  const [datasetId, setDatasetId] = useState<number | ''>('');
  const ids = { n: useId(), abl: useId(), err: useId(), data: useId() };
  if (!circuit) return <div className="view">Open a circuit to evaluate it.</div>;
  const nopair = !!circuit.circuit.parameters.nopair;
  const ev = circuit.evaluations.find((e) => e.id === evaluationId) ?? circuit.evaluations.at(-1) ?? null;
  // Agreement JSONL (demo, imported or generated): the only data with clean and patch prefixes.
  const paired = (library?.datasets ?? []).filter((d) => d.format === 'jsonl');
  const chosen = datasetId || (nopair ? (paired[0]?.id ?? '') : '');

  return (
    <div className="view evaluate" data-testid="evaluate-view">
      <h2>Evaluate v{circuit.summary.id}</h2>
      {nopair && (
        <p className="notice-box" role="note">
          This circuit was discovered on data without pairs (cluster data). Faithfulness and completeness need paired data (clean and patch prefixes, whose
          means are the ablation values): pick a paired dataset to evaluate it on.
        </p>
      )}
      <form
        className="form-grid wide"
        onSubmit={(e) => {
          e.preventDefault();
          void actions.evaluate({ n, ablation, errors, ...(chosen ? { datasetId: chosen } : {}) });
        }}
      >
        <label htmlFor={ids.abl}>Ablation</label>
        <select id={ids.abl} value={ablation} onChange={(e) => setAblation(e.target.value as typeof ablation)}>
          <option value="mean">mean (the paper's)</option>
          <option value="zero">zero</option>
          <option value="resample">resample</option>
        </select>
        <label htmlFor={ids.err}>Error nodes</label>
        <select id={ids.err} value={errors} onChange={(e) => setErrors(e.target.value as typeof errors)}>
          <option value="all">all in the circuit</option>
          <option value="resid-only">residual errors only</option>
          <option value="none">none in the circuit</option>
        </select>
        <label htmlFor={ids.n}>Examples</label>
        <input id={ids.n} type="number" min={1} max={100000} value={n} onChange={(e) => setN(Math.max(1, Number(e.target.value) || 1))} />
        <label htmlFor={ids.data}>Dataset</label>
        <select id={ids.data} value={chosen} onChange={(e) => setDatasetId(e.target.value ? Number(e.target.value) : '')}>
          {!nopair && <option value="">the circuit's dataset</option>}
          {paired.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name}
            </option>
          ))}
        </select>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={!!job}>
            Run the sweep (15 thresholds)
          </button>
          <button type="button" disabled={!!job} onClick={() => void actions.evaluate({ n, ablation, errors, single: true, ...(chosen ? { datasetId: chosen } : {}) })}>
            Evaluate at the current threshold
          </button>
        </div>
      </form>
      {job && <JobBar job={job} label="Evaluating" onCancel={actions.cancelEvaluate} />}
      {error && (
        <p className={error.startsWith('Cancelled') ? 'notice-box' : 'error'} role="alert">
          {error}
        </p>
      )}
      {circuit.evaluations.length > 1 && (
        <div className="row evaluations" aria-label="Evaluations of this version">
          {circuit.evaluations.map((e) => (
            <button key={e.id} type="button" className={`chip${ev?.id === e.id ? ' current' : ''}`} onClick={() => actions.showEvaluation(e.id)}>
              #{e.id} · {e.result.rows.length} pt · {fmtDate(e.createdAt)}
            </button>
          ))}
        </div>
      )}
      {ev ? <EvaluationResult ev={ev} threshold={nodeThreshold} onPick={(t) => actions.setThreshold('node', t)} /> : !nopair && <p className="muted">No evaluation of this version yet.</p>}
    </div>
  );
}

function EvaluationResult({ ev, threshold, onPick }: { ev: Evaluation; threshold: number; onPick(t: number): void }): React.JSX.Element {
  const r = ev.result;
  // x must rise for uPlot: most nodes at the lowest threshold, so sort by node count. Log x
  // cannot show an empty circuit; the table below still lists it.
  const rows = useMemo(() => r.rows.filter((x) => x.nodes > 0).sort((a, b) => a.nodes - b.nodes || b.threshold - a.threshold), [r.rows]);
  const faith = useMemo<SweepPoint[]>(() => rows.map((x) => ({ threshold: x.threshold, nodes: x.nodes, value: x.faithfulness })), [rows]);
  const comp = useMemo<SweepPoint[]>(() => rows.map((x) => ({ threshold: x.threshold, nodes: x.nodes, value: x.completeness })), [rows]);
  // The point nearest the graph's threshold (log distance): the circuit the graph shows.
  let mark: number | null = null;
  let best = Infinity;
  for (let i = 0; i < rows.length; i++) {
    const d = Math.abs(Math.log10(Math.max(rows[i].threshold, 1e-12)) - Math.log10(Math.max(threshold, 1e-12)));
    if (d < best) {
      best = d;
      mark = i;
    }
  }
  const pick = (p: SweepPoint): void => onPick(p.threshold);
  const settings = ev.params as { ablation?: string; errors?: string; n?: number };
  return (
    <section className="evaluation" data-testid="evaluation">
      <p className="muted">
        Evaluation #{ev.id}: {settings.ablation ?? 'mean'} ablation, error nodes: {settings.errors ?? 'all'}, {r.examples} examples, layers from {r.startLayer} (submodules {r.submodules.join(', ')}). m(model) ={' '}
        {fmtNum(r.mFull)}, m(∅) = {fmtNum(r.mEmpty)}. Measured by ablation, not estimated. Click a point to set the graph's node threshold.
      </p>
      {r.warnings.map((w, i) => (
        <p key={i} className="warning">
          {w}
        </p>
      ))}
      {rows.length > 0 ? (
        <div className="charts">
          <figure aria-label="Faithfulness against the number of nodes">
            <SweepChart title="Faithfulness" points={faith} markIndex={mark} onPick={pick} color={POSITIVE_COLOR} ideal={1} />
            <figcaption className="muted">(m(C) − m(∅)) / (m(M) − m(∅)); 1 = the circuit alone does what the model does.</figcaption>
          </figure>
          <figure aria-label="Completeness against the number of nodes">
            <SweepChart title="Completeness" points={comp} markIndex={mark} onPick={pick} color={NEGATIVE_COLOR} ideal={0} />
            <figcaption className="muted">The model without the circuit, same scale; 0 = nothing is left without it.</figcaption>
          </figure>
        </div>
      ) : (
        <p className="muted">No threshold kept any node.</p>
      )}
      <table className="sweep-table">
        <caption className="muted">Every point of the sweep</caption>
        <thead>
          <tr>
            <th scope="col">node threshold</th>
            <th scope="col">nodes</th>
            <th scope="col">faithfulness</th>
            <th scope="col">completeness</th>
            <th scope="col" />
          </tr>
        </thead>
        <tbody>
          {r.rows.map((x, i) => (
            <tr key={i} className={mark !== null && rows[mark] === x ? 'current' : undefined}>
              <td>{fmtNum(x.threshold)}</td>
              <td>{x.nodes}</td>
              <td>{fmtNum(x.faithfulness)}</td>
              <td>{fmtNum(x.completeness)}</td>
              <td>
                <button type="button" className="link" onClick={() => onPick(x.threshold)}>
                  Use {fmtNum(x.threshold)}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
