/**
 * Ablate or clamp the selected nodes on the circuit's dataset (or another) and compare the
 * metric before and after, per example and on average, with the next tokens that moved most.
 * Each run is kept as an experiment of this version; touched nodes carry its badge (E1, …).
 */
import React, { useId, useState } from 'react';
import { useActions, useAppState } from '../../state/context';
import type { AblateMode, Experiment } from '../../state/types';
import { fmtDate, fmtNum, fmtSigned, plural } from '../../util/format';
import { JobBar } from '../JobBar';

type ModeName = 'mean' | 'zero' | 'resample' | 'clamp';

export function AblatePanel(): React.JSX.Element | null {
  const actions = useActions();
  const circuit = useAppState((s) => s.circuit);
  const selection = useAppState((s) => s.selection);
  const job = useAppState((s) => s.ablateJob);
  const error = useAppState((s) => s.ablateError);
  const experimentId = useAppState((s) => s.experimentId);
  const library = useAppState((s) => s.library);
  const [mode, setMode] = useState<ModeName>('mean');
  const [clamp, setClamp] = useState('0');
  const [n, setN] = useState(40);
  const [datasetId, setDatasetId] = useState<number | ''>('');
  const modeId = useId();
  const clampId = useId();
  const nId = useId();
  const dataId = useId();
  if (!circuit) return null;
  const selected = [...selection].filter((id) => id !== 'y');
  const exp = circuit.experiments.find((x) => x.id === experimentId) ?? null;
  const clampValue = Number(clamp);
  const run = (): void => {
    const m: AblateMode = mode === 'clamp' ? { clamp: clampValue } : mode;
    void actions.ablate({ mode: m, n, ...(datasetId ? { datasetId } : {}) });
  };
  return (
    <div className="ablate" data-testid="ablate">
      <p>
        {selected.length ? (
          <>
            On the {plural(selected.length, 'selected node')}: <span className="mono">{selected.slice(0, 4).join(', ')}{selected.length > 4 ? ', …' : ''}</span>
          </>
        ) : (
          <span className="muted">Select nodes in the graph to ablate or clamp them.</span>
        )}
      </p>
      <form
        className="form-grid"
        onSubmit={(e) => {
          e.preventDefault();
          run();
        }}
      >
        <label htmlFor={modeId}>Intervention</label>
        <select id={modeId} value={mode} onChange={(e) => setMode(e.target.value as ModeName)}>
          <option value="mean">mean-ablate (dataset mean)</option>
          <option value="zero">zero-ablate</option>
          <option value="resample">resample-ablate (another example)</option>
          <option value="clamp">clamp to a value</option>
        </select>
        {mode === 'clamp' && (
          <>
            <label htmlFor={clampId}>Clamp value</label>
            <input id={clampId} type="number" step="any" value={clamp} onChange={(e) => setClamp(e.target.value)} />
          </>
        )}
        <label htmlFor={nId}>Examples</label>
        <input id={nId} type="number" min={1} max={100000} value={n} onChange={(e) => setN(Math.max(1, Number(e.target.value) || 1))} />
        <label htmlFor={dataId}>Dataset</label>
        <select id={dataId} value={datasetId} onChange={(e) => setDatasetId(e.target.value ? Number(e.target.value) : '')}>
          <option value="">the circuit's dataset</option>
          {library?.datasets.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name} ({d.examples})
            </option>
          ))}
        </select>
        <div className="form-actions">
          <button type="submit" disabled={!selected.length || !!job || (mode === 'clamp' && !Number.isFinite(clampValue))}>
            Run experiment
          </button>
        </div>
      </form>
      {job && <JobBar job={job} label="Running the experiment" onCancel={actions.cancelAblate} />}
      {error && (
        <p className={error.startsWith('Cancelled') ? 'notice-box' : 'error'} role="alert">
          {error}
        </p>
      )}
      {exp && <ExperimentResult exp={exp} />}
      {circuit.experiments.length > 0 && (
        <>
          <h3>Experiments on this version</h3>
          <ul className="experiments">
            {[...circuit.experiments].reverse().map((x) => (
              <li key={x.id}>
                <button type="button" className={`link${x.id === experimentId ? ' current' : ''}`} onClick={() => actions.showExperiment(x.id)}>
                  E{x.id}: {modeText(x)} on {plural(nodeCount(x), 'node')}, {fmtNum(x.result.meanBefore)} → {fmtNum(x.result.meanAfter)}
                </button>{' '}
                <span className="muted">{fmtDate(x.createdAt)}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

const nodeCount = (x: Experiment): number => ((x.params as { nodes?: unknown[] }).nodes ?? []).length;
function modeText(x: Experiment): string {
  const m = (x.params as { mode?: AblateMode }).mode;
  if (m && typeof m === 'object') return `clamp = ${fmtNum(m.clamp)}`;
  return `${m ?? 'mean'}-ablate`;
}

function ExperimentResult({ exp }: { exp: Experiment }): React.JSX.Element {
  const r = exp.result;
  const delta = r.meanAfter - r.meanBefore;
  // Scaled to the values themselves (not from 0), so small changes stay visible.
  const vmin = Math.min(...r.before, ...r.after);
  const vmax = Math.max(...r.before, ...r.after);
  const pad = (vmax - vmin) * 0.08 || Math.abs(vmax) * 0.05 || 1;
  const lo = vmin - pad;
  const span = vmax + pad - lo;
  const pct = (v: number): string => `${(((v - lo) / span) * 100).toFixed(1)}%`;
  return (
    <section className="experiment" aria-label={`Experiment E${exp.id}`} data-testid="experiment">
      <h3>
        E{exp.id}: {modeText(exp)}
      </h3>
      <div className="metric-summary" data-testid="metric-change">
        <span className="muted">{r.metric}, mean over {r.before.length} examples:</span>
        <span className="big">
          {fmtNum(r.meanBefore)} → {fmtNum(r.meanAfter)}
        </span>
        <span className={delta < 0 ? 'neg' : 'pos'}>({fmtSigned(delta)})</span>
      </div>
      <h4>Per example</h4>
      <ol className="per-example" aria-label="Metric per example, before and after">
        {r.before.map((b, i) => (
          <li key={i} title={`example ${i + 1}: ${fmtNum(b)} → ${fmtNum(r.after[i])}`}>
            <span className="ex-n">{i + 1}</span>
            <span className="ex-track">
              <span className="ex-before" style={{ left: pct(Math.min(b, r.after[i])), width: `calc(${pct(Math.max(b, r.after[i]))} - ${pct(Math.min(b, r.after[i]))})` }} />
              <span className="ex-dot before" style={{ left: pct(b) }} />
              <span className="ex-dot after" style={{ left: pct(r.after[i]) }} />
            </span>
            <span className="ex-v">
              {fmtNum(b)} → {fmtNum(r.after[i])}
            </span>
          </li>
        ))}
      </ol>
      <p className="muted small">
        ○ before · ● after · axis from {fmtNum(lo)} to {fmtNum(lo + span)}
      </p>
      <h4>Top next-token changes</h4>
      <table className="token-changes">
        <thead>
          <tr>
            <th scope="col">token</th>
            <th scope="col">before</th>
            <th scope="col">after</th>
            <th scope="col">change</th>
          </tr>
        </thead>
        <tbody>
          {r.topChanges.map((t) => (
            <tr key={t.id}>
              <td className="mono">{JSON.stringify(t.token)}</td>
              <td>{(t.before * 100).toFixed(1)}%</td>
              <td>{(t.after * 100).toFixed(1)}%</td>
              <td className={t.after < t.before ? 'neg' : 'pos'}>{fmtSigned((t.after - t.before) * 100)} pt</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
