/**
 * The selected node: what it is, its annotation (edited in place, saved to the store), its
 * strongest incoming and outgoing edges (click one to jump), and the dataset contexts where the
 * feature is most active, with the token highlighted.
 */
import React, { useEffect, useId, useState } from 'react';
import { METRIC_NODE, positionFreeId } from '../../../../src-main/view';
import { labelOf, type GraphModel } from '../../graph/model';
import { useActions, useAppState } from '../../state/context';
import type { FeatureExamples, JobView, OpenCircuit } from '../../state/types';
import { fmtNum, fmtSigned } from '../../util/format';
import { neuronpediaUrl } from '../../util/neuronpedia';
import { useNeuronpediaLinks } from '../../state/use-neuronpedia';
import { JobBar } from '../JobBar';
import { ContextTokens } from '../ContextTokens';

export function Inspector(): React.JSX.Element {
  const circuit = useAppState((s) => s.circuit);
  const focus = useAppState((s) => s.focus);
  const selection = useAppState((s) => s.selection);
  if (!circuit) return <p className="muted">No circuit open.</p>;
  if (!focus) {
    return (
      <div className="inspector" data-testid="inspector">
        <p className="muted">Click a node to inspect it. Shift+click adds to the selection, Shift+drag selects a box, Delete prunes the selection.</p>
        {selection.size > 0 && <p>{selection.size} nodes selected.</p>}
      </div>
    );
  }
  if (focus === METRIC_NODE) return <MetricInfo circuit={circuit} />;
  return <NodeInfo key={focus} circuit={circuit} id={focus} />;
}

function MetricInfo({ circuit }: { circuit: OpenCircuit }): React.JSX.Element {
  const p = circuit.circuit.parameters;
  return (
    <div className="inspector" data-testid="inspector">
      <h2>Metric y</h2>
      <p className="muted">
        {p.nopair ? 'The logit of the answer (no pairs).' : 'logit(patch answer) − logit(clean answer), averaged over examples.'} Total effect of the patch:{' '}
        {fmtNum(circuit.circuit.totalEffect)}.
      </p>
      <EdgeList title="Incoming edges" model={circuit.graph} ids={circuit.graph.incoming.get(METRIC_NODE) ?? []} end="source" />
    </div>
  );
}

function NodeInfo({ circuit, id }: { circuit: OpenCircuit; id: string }): React.JSX.Element {
  const actions = useActions();
  const annotations = useAppState((s) => s.annotations);
  const annotationText = useAppState((s) => s.annotationText);
  const library = useAppState((s) => s.library);
  const examples = useAppState((s) => s.examples);
  const node = circuit.graph.nodeById.get(id);

  const links = useNeuronpediaLinks(circuit.summary.saeSetId);

  // Top contexts load by themselves shortly after a node is picked; clicking through nodes
  // quickly cancels the runs nobody waits for.
  useEffect(() => {
    if (!node) return;
    const t = setTimeout(() => void actions.loadExamples(id), 250);
    return () => {
      clearTimeout(t);
      actions.cancelExamples();
    };
  }, [id, node, actions]);

  if (!node) return <p className="muted">This node is not in this version.</p>;
  const label = labelOf(node, annotationText, circuit.circuit.labels);
  const token = node.position !== undefined ? circuit.circuit.positions?.[node.position] : undefined;
  const np = node.feature === 'error' ? null : neuronpediaUrl(links, node.submodule, node.feature);
  const method = String(circuit.summary.parameters.method ?? 'ig').toUpperCase();
  return (
    <div className="inspector" data-testid="inspector">
      <h2 className="inspector-title" title={label}>
        {label}
      </h2>
      <dl>
        <dt>Node</dt>
        <dd className="mono">{id}</dd>
        <dt>Submodule</dt>
        <dd>{node.submodule}</dd>
        <dt>Feature</dt>
        <dd>{node.feature === 'error' ? 'SAE error term (what the SAE misses)' : node.feature}</dd>
        {node.position !== undefined && (
          <>
            <dt>Position</dt>
            <dd>
              {node.position} {token !== undefined && <span className="mono">“{token}”</span>}
            </dd>
          </>
        )}
        <dt>Effect</dt>
        <dd>
          <span className={node.effect >= 0 ? 'pos' : 'neg'}>{fmtSigned(node.effect)}</span>{' '}
          <span className="muted" title="Indirect effect estimated from attributions; an ablation (Ablate tab) measures it for real">
            ({method} estimate)
          </span>
        </dd>
      </dl>
      {np && (
        <p>
          <a href={np} target="_blank" rel="noreferrer noopener">
            Open this feature on Neuronpedia
          </a>
        </p>
      )}
      <AnnotationEditor key={id} id={id} initial={annotations.get(positionFreeId(id))?.text ?? ''} initialNotes={annotations.get(positionFreeId(id))?.notes ?? ''} canSave={circuit.summary.saeSetId !== null} />
      <EdgeList title="Incoming edges" model={circuit.graph} ids={circuit.graph.incoming.get(id) ?? []} end="source" />
      <EdgeList title="Outgoing edges" model={circuit.graph} ids={circuit.graph.outgoing.get(id) ?? []} end="target" />
      <Contexts nodeId={id} state={examples} />
    </div>
  );
}

function AnnotationEditor({ id, initial, initialNotes, canSave }: { id: string; initial: string; initialNotes: string; canSave: boolean }): React.JSX.Element {
  const actions = useActions();
  const [text, setText] = useState(initial);
  const [notes, setNotes] = useState(initialNotes);
  const [status, setStatus] = useState<'idle' | 'saving' | 'saved'>('idle');
  const [history, setHistory] = useState<{ text: string | null; source: string; changedAt: string }[] | null>(null);
  const textId = useId();
  const notesId = useId();
  const dirty = text !== initial || notes !== initialNotes;
  useEffect(() => {
    setText(initial);
    setNotes(initialNotes);
  }, [initial, initialNotes]);
  const save = async (): Promise<void> => {
    setStatus('saving');
    const ok = await actions.saveAnnotation(id, text.trim(), notes.trim() ? notes.trim() : null);
    setStatus(ok ? 'saved' : 'idle');
  };
  return (
    <section className="annotation" aria-label="Feature annotation">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <label htmlFor={textId}>Annotation</label>
        <input
          id={textId}
          value={text}
          maxLength={500}
          placeholder="what this feature does, e.g. “plural nouns”"
          onChange={(e) => {
            setText(e.target.value);
            setStatus('idle');
          }}
        />
        <label htmlFor={notesId}>Notes</label>
        <textarea id={notesId} value={notes} rows={2} maxLength={10000} onChange={(e) => setNotes(e.target.value)} />
        <div className="row">
          <button type="submit" disabled={!canSave || !dirty || status === 'saving'}>
            Save annotation
          </button>
          {status === 'saved' && !dirty && (
            <span className="ok" role="status">
              Saved
            </span>
          )}
          <button type="button" className="link" onClick={async () => setHistory(history ? null : await actions.annotationHistory(id))}>
            {history ? 'Hide history' : 'History'}
          </button>
        </div>
        {!canSave && <p className="muted">This circuit's SAE set is not in the library, so annotations cannot be saved.</p>}
      </form>
      {history && (
        <ol className="annotation-history">
          {history.length === 0 && <li className="muted">No changes yet.</li>}
          {[...history].reverse().map((h, i) => (
            <li key={i}>
              <span className="muted">{h.changedAt.slice(0, 16).replace('T', ' ')}</span> {h.text === null ? <em>removed</em> : `“${h.text}”`} <span className="muted">({h.source})</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function EdgeList({ title, model, ids, end }: { title: string; model: GraphModel; ids: number[]; end: 'source' | 'target' }): React.JSX.Element {
  const actions = useActions();
  const annotationText = useAppState((s) => s.annotationText);
  const [all, setAll] = useState(false);
  const shown = all ? ids : ids.slice(0, 8);
  const max = ids.length ? Math.abs(model.edges[ids[0]].weight) : 1;
  return (
    <section className="edge-list" aria-label={title}>
      <h3>
        {title} <span className="muted">({ids.length}, by |weight|)</span>
      </h3>
      {ids.length === 0 && <p className="muted">None.</p>}
      <ol>
        {shown.map((i) => {
          const e = model.edges[i];
          const other = e[end];
          const n = model.nodeById.get(other);
          const name = n ? labelOf(n, annotationText) : other;
          return (
            <li key={i}>
              <button type="button" className="edge-row" onClick={() => actions.jumpTo(other)} title={`Go to ${other}`}>
                <span className="bar" style={{ width: `${(Math.abs(e.weight) / max) * 100}%` }} data-sign={e.weight < 0 ? '-' : '+'} />
                <span className="edge-name">
                  {name}
                  {n?.position !== undefined ? <span className="muted"> @{n.position}</span> : null}
                </span>
                <span className={`edge-w ${e.weight < 0 ? 'neg' : 'pos'}`}>{fmtSigned(e.weight)}</span>
              </button>
            </li>
          );
        })}
      </ol>
      {ids.length > 8 && (
        <button type="button" className="link" onClick={() => setAll(!all)}>
          {all ? 'Show the top 8' : `Show all ${ids.length}`}
        </button>
      )}
    </section>
  );
}

type Context = FeatureExamples['contexts'][number];

/** Datasets repeat prefixes (the demo's simple set has 2-token ones): one line per context, with a count. */
function dedupe(contexts: Context[]): { c: Context; times: number }[] {
  const out = new Map<string, { c: Context; times: number }>();
  for (const c of contexts) {
    const k = `${c.position}\u0000${c.tokens.join('\u0000')}`;
    const seen = out.get(k);
    if (seen) seen.times++;
    else out.set(k, { c, times: 1 });
  }
  return [...out.values()];
}

function Contexts({ nodeId, state }: { nodeId: string; state: { nodeId: string | null; job: unknown; result: FeatureExamples | null; error: string | null } }): React.JSX.Element {
  const actions = useActions();
  const mine = state.nodeId === nodeId;
  const result = mine ? state.result : null;
  return (
    <section className="contexts" aria-label="Top-activating contexts" data-testid="contexts">
      <h3>Top-activating contexts</h3>
      {mine && state.job ? <JobBar job={state.job as JobView} label="Finding contexts" onCancel={actions.cancelExamples} compact /> : null}
      {mine && state.error && <p className="error">{state.error}</p>}
      {result && (
        <>
          <p className="muted">
            Active in {result.active} of {result.scanned} sequences of the circuit's dataset.
          </p>
          {result.contexts.length === 0 && <p className="muted">Never active here.</p>}
          <ol className="context-list">
            {dedupe(result.contexts).map(({ c, times }, i) => (
              <li key={i}>
                <span className="ctx-act">{fmtNum(c.activation)}</span>
                <ContextTokens tokens={c.tokens} values={c.values} position={c.position} />
                {times > 1 && <span className="muted ctx-times">×{times}</span>}
              </li>
            ))}
          </ol>
        </>
      )}
      {!mine && !state.job && (
        <button type="button" onClick={() => void actions.loadExamples(nodeId)}>
          Find top contexts
        </button>
      )}
    </section>
  );
}
