/**
 * SHIFT (docs/shift.md): train a probe on data where gender predicts the label as well as
 * profession, find the SAE features the probe uses, judge each one (keep or ablate, with a
 * note; saved as you go), then ablate the spurious ones and compare with the paper's baselines
 * in a table (Table 2's layout) and a chart.
 */
import React, { memo, useEffect, useId, useMemo, useState } from 'react';
import type { ShiftResult, ShiftRow } from '../../../../src-main/circuits/shift';
import { useActions, useAppState } from '../../state/context';
import { featureKey } from '../../state/shift-actions';
import type { Decision, ProbeRecord, ShiftFeature, ShiftRunRecord } from '../../state/types';
import { fmtNum, fmtSigned, plural } from '../../util/format';
import { neuronpediaUrl, type NeuronpediaLinks } from '../../util/neuronpedia';
import { useNeuronpediaLinks } from '../../state/use-neuronpedia';
import { ContextTokens } from '../ContextTokens';
import { JobBar } from '../JobBar';
import { ShiftChart, type ChartRow } from './ShiftChart';

const METHODS: { id: ShiftRow['method']; label: string }[] = [
  { id: 'original', label: 'Original' },
  { id: 'cbp', label: 'CBP' },
  { id: 'random', label: 'Random' },
  { id: 'shift', label: 'SHIFT' },
  { id: 'shift_retrain', label: 'SHIFT + retrain' },
  { id: 'neuron_skyline', label: 'Neuron skyline' },
  { id: 'feature_skyline', label: 'Feature skyline' },
  { id: 'oracle', label: 'Oracle' },
];

const pct = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? `${(v * 100).toFixed(1)}` : '—');
/** Byte-level BPE strings: Ġ is a leading space, Ċ a newline. */
const showToken = (t: string): string => t.replace(/Ġ/g, ' ').replace(/Ċ/g, '⏎');

export function ShiftView(): React.JSX.Element {
  const actions = useActions();
  const sh = useAppState((s) => s.shift);
  const connected = useAppState((s) => s.appInfo !== null);
  // The demo is offered by a click (it registers a model, SAEs and data in the library); once
  // its biographies are in the library, coming back (a reload) picks up where it was left.
  const demoRegistered = useAppState((s) => s.library?.datasets.some((d) => d.format === 'bios-jsonl') ?? false);
  useEffect(() => {
    if (connected && demoRegistered && !sh.demo && !sh.demoLoading && !sh.error) void actions.useShiftDemo();
  }, [connected, demoRegistered, sh.demo, sh.demoLoading, sh.error, actions]);
  const err = (step: NonNullable<typeof sh.error>['step']): React.JSX.Element | null =>
    sh.error?.step === step ? (
      <p className="error" role="alert">
        {sh.error.text}
      </p>
    ) : null;
  const nAblate = useMemo(() => [...sh.judgements.values()].filter((j) => j.decision === 'ablate').length, [sh.judgements]);
  return (
    <div className="view shift" data-testid="shift-view">
      <h2>SHIFT: find and remove a classifier's spurious features</h2>
      <p className="muted intro">
        A probe trained where gender predicts the label as well as profession uses both. Find the SAE features it relies on, judge each as task-relevant (keep) or spurious (ablate), and
        see whether ablating the spurious ones makes it generalise to data where the two disagree.
      </p>
      <ol className="shift-steps">
        <li>
          <h3>Model and data</h3>
          {sh.demo ? (
            <p data-testid="shift-demo">
              {sh.demo.model.name} · {sh.demo.saeSet.name} · {sh.demo.dataset.name} ({plural(sh.demo.dataset.examples, 'biography', 'biographies')}). Probe on layer {sh.demo.defaults.layer}, circuit
              threshold {sh.demo.defaults.threshold}.
            </p>
          ) : (
            <button type="button" className="primary" disabled={!connected || sh.demoLoading} onClick={() => void actions.useShiftDemo()}>
              Use the SHIFT demo
            </button>
          )}
          {err('demo')}
        </li>
        <li>
          <h3>1. Train the probe</h3>
          <p className="muted">Profession labels on the ambiguous train set (male professors, female nurses), so gender is as good a cue as profession.</p>
          <div className="row">
            <button type="button" className={sh.probe ? '' : 'primary'} disabled={!sh.demo || sh.probeJob !== null} onClick={() => void actions.trainProbe()}>
              {sh.probe ? 'Train the probe again' : 'Train the probe'}
            </button>
          </div>
          {sh.probeJob && <JobBar job={sh.probeJob} label="Training" onCancel={actions.cancelProbe} />}
          {err('probe')}
          {sh.probe && <ProbeSummary probe={sh.probe} />}
        </li>
        <li>
          <h3>2. Find the classifier's circuit</h3>
          <div className="row">
            <button type="button" className={sh.circuit ? '' : 'primary'} disabled={!sh.probe || sh.discoverJob !== null || sh.featuresJob !== null} onClick={() => void actions.discoverShift()}>
              Discover the circuit
            </button>
          </div>
          {sh.discoverJob && <JobBar job={sh.discoverJob} label="Discovering" onCancel={actions.cancelShiftDiscover} />}
          {err('discover')}
          {sh.circuit && !sh.discovery && (
            <p data-testid="shift-circuit">
              “{sh.circuit.name}”: {plural(sh.circuit.nodes, 'feature')}, discovered earlier with this probe.
            </p>
          )}
          {sh.discovery && (
            <p data-testid="shift-circuit">
              {plural(sh.discovery.features.length, 'feature')} with effect above {sh.demo?.defaults.threshold ?? '?'} over {plural(sh.discovery.examples, 'example')} ({sh.discovery.seconds.toFixed(1)} s), saved as “
              {sh.discovery.circuit.name}”.{sh.discovery.notes.length ? ` ${sh.discovery.notes.join(' ')}` : ''}
            </p>
          )}
        </li>
        <li>
          <h3>3. Judge the features</h3>
          {sh.featuresJob && <JobBar job={sh.featuresJob} label="Reading the features" onCancel={actions.cancelShiftFeatures} />}
          {err('features')}
          {sh.features ? <Judging features={sh.features} saeSetId={sh.circuit?.saeSetId ?? null} nAblate={nAblate} /> : !sh.featuresJob && <p className="muted">The circuit's features show here.</p>}
        </li>
        <li>
          <h3>4. Run SHIFT</h3>
          <p className="muted">Ablates the features judged spurious, retrains the head, and runs the baselines on the test split.</p>
          <div className="row">
            <button type="button" className="primary" disabled={!sh.circuit || nAblate === 0 || sh.runJob !== null} onClick={() => void actions.runShift()}>
              Run SHIFT
            </button>
            {sh.circuit && sh.features && nAblate === 0 && <span className="muted">Mark at least one feature “Ablate” first.</span>}
          </div>
          {sh.runJob && <JobBar job={sh.runJob} label="Running SHIFT" onCancel={actions.cancelShiftRun} />}
          {err('run')}
          {sh.run && <ShiftResults run={sh.run} />}
        </li>
      </ol>
    </div>
  );
}

function ProbeSummary({ probe }: { probe: ProbeRecord }): React.JSX.Element {
  const a = probe.accuracy as { train?: number; profession?: number; gender?: number; worstGroup?: number; ambiguous?: number };
  return (
    <p data-testid="shift-probe">
      Probe “{probe.name}” · train {pct(a.train)} % · test: profession {pct(a.profession)} %, gender {pct(a.gender)} %, worst group {pct(a.worstGroup)} %, ambiguous {pct(a.ambiguous)} %
    </p>
  );
}

function Judging({ features, saeSetId, nAblate }: { features: ShiftFeature[]; saeSetId: number | null; nAblate: number }): React.JSX.Element {
  const actions = useActions();
  const judgements = useAppState((s) => s.shift.judgements);
  const links = useNeuronpediaLinks(saeSetId);
  const nKeep = [...judgements.values()].filter((j) => j.decision === 'keep').length;
  return (
    <>
      <div className="row judge-head">
        <span data-testid="judge-counts">
          {nAblate} to ablate · {nKeep} to keep · {features.length - nAblate - nKeep} not judged
        </span>
        <button type="button" onClick={() => void actions.markAllKeep()}>
          Mark all as keep
        </button>
      </div>
      <ol className="judge-list">
        {features.map((f) => {
          const k = featureKey(f);
          const j = judgements.get(k);
          return <FeatureCard key={k} f={f} decision={j?.decision ?? null} note={j?.note ?? ''} url={neuronpediaUrl(links, f.submodule, f.feature)} />;
        })}
      </ol>
    </>
  );
}

/** One feature to judge; memoised so a decision re-renders only its own card. */
const FeatureCard = memo(function FeatureCard({ f, decision, note, url }: { f: ShiftFeature; decision: Decision; note: string; url: string | null }): React.JSX.Element {
  const actions = useActions();
  const [text, setText] = useState(note);
  const [all, setAll] = useState(false);
  const noteId = useId();
  useEffect(() => setText(note), [note]);
  const k = featureKey(f);
  const contexts = all ? f.contexts : f.contexts.slice(0, 2);
  const save = (d: Decision): void => void actions.judge([{ f, decision: d, note: text }]);
  return (
    <li className={`judge-card${decision ? ` ${decision}` : ''}`} data-testid={`judge-${k}`}>
      <div className="judge-title">
        <strong className="mono">{k}</strong>
        <span className="muted">
          effect <span className="pos">{f.effect === null ? '—' : fmtSigned(f.effect)}</span> · active in {f.active} biographies
        </span>
        {f.annotation?.text && <span className="judge-annotation">“{f.annotation.text}”</span>}
        {url && (
          <a href={url} target="_blank" rel="noreferrer noopener">
            Neuronpedia
          </a>
        )}
      </div>
      {f.topTokens.length > 0 && (
        <div className="top-tokens">
          <span className="muted">promotes</span>
          {f.topTokens.slice(0, 8).map((t) => (
            <span key={t.token} className="chip token-chip" title={`logit ${fmtNum(t.logit)}`}>
              {showToken(t.token)}
            </span>
          ))}
        </div>
      )}
      <ol className="context-list">
        {contexts.length === 0 && <li className="muted">Not active in the scanned biographies.</li>}
        {contexts.map((c, i) => (
          <li key={i}>
            <span className="ctx-act">{fmtNum(c.activation)}</span>
            <ContextTokens tokens={c.tokens} values={c.values} position={c.position} show={showToken} />
          </li>
        ))}
      </ol>
      {f.contexts.length > 2 && (
        <button type="button" className="link" onClick={() => setAll(!all)}>
          {all ? 'Fewer contexts' : `All ${f.contexts.length} contexts`}
        </button>
      )}
      <fieldset className="judge-form">
        <legend className="visually-hidden">Decision for {k}</legend>
        <label>
          <input type="radio" name={`d-${k}`} checked={decision === 'keep'} onChange={() => save('keep')} /> Keep
        </label>
        <label>
          <input type="radio" name={`d-${k}`} checked={decision === 'ablate'} onChange={() => save('ablate')} /> Ablate
        </label>
        <label htmlFor={noteId}>Note</label>
        <input
          id={noteId}
          value={text}
          maxLength={10000}
          placeholder="why, e.g. “fires on she / her”"
          onChange={(e) => setText(e.target.value)}
          onBlur={() => {
            if (text !== note) save(decision);
          }}
        />
      </fieldset>
    </li>
  );
});

function ShiftResults({ run }: { run: ShiftRunRecord }): React.JSX.Element {
  const r = run.result as unknown as ShiftResult;
  const rows = METHODS.map((m) => ({ m, row: r.rows.find((x) => x.method === m.id) })).filter((x): x is { m: (typeof METHODS)[number]; row: ShiftRow } => x.row !== undefined);
  const chartRows = useMemo<ChartRow[]>(() => rows.map(({ m, row }) => ({ label: m.label, profession: row.profession, gender: row.gender, worstGroup: row.worstGroup })), [run]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <div className="shift-results" data-testid="shift-results">
      <table className="shift-table" data-testid="shift-table">
        <caption>
          Run {run.id}: accuracy on the test split, in % ({plural(r.sizes.balancedTest, 'balanced biography', 'balanced biographies')}, {plural(r.sizes.ambiguousTest, 'ambiguous one')}); {plural(r.ablated.length, 'feature')} ablated.
        </caption>
        <thead>
          <tr>
            <th scope="col">Method</th>
            <th scope="col" title="Profession accuracy on the balanced test set (higher is better)">
              Profession ↑
            </th>
            <th scope="col" title="Accuracy of the same predictions against gender (lower is better; 50 % = no gender signal)">
              Gender ↓
            </th>
            <th scope="col" title="Lowest profession accuracy over the four gender × profession groups (higher is better)">
              Worst group ↑
            </th>
            <th scope="col" title="Accuracy on the ambiguous test set, where profession and gender agree">
              Ambiguous
            </th>
            <th scope="col">Ablated</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ m, row }) => (
            <tr key={m.id} className={m.id.startsWith('shift') ? 'shift-row' : ''}>
              <th scope="row">{m.label}</th>
              <td>{pct(row.profession)}</td>
              <td>{pct(row.gender)}</td>
              <td>{pct(row.worstGroup)}</td>
              <td>{pct(row.ambiguous)}</td>
              <td>{row.ablated ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {r.notes.length > 0 && (
        <ul className="muted small">
          {r.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      <figure className="shift-figure">
        <ShiftChart rows={chartRows} />
        <figcaption className="muted small">Dashed: 50 %, chance; for gender it means the predictions carry no gender signal.</figcaption>
      </figure>
    </div>
  );
}
