import React, { useState } from 'react';
import { useActions, useAppState } from '../state/context';

/** Shown only when the host has a model configured: its info and a next-token predictor. */
export function ModelPanel(): React.JSX.Element | null {
  const actions = useActions();
  const configured = useAppState((s) => s.appInfo?.model ?? null);
  const model = useAppState((s) => s.model);
  const predict = useAppState((s) => s.predict);
  const [text, setText] = useState('The keys to the cabinet');
  if (!configured) return null;

  return (
    <section className="panel" data-testid="model-panel">
      <h2>Model</h2>
      {model.loading && <p className="muted">loading…</p>}
      {model.error && <p className="error">{model.error}</p>}
      {model.info && (
        <dl>
          <dt>Architecture</dt>
          <dd>{model.info.architecture}</dd>
          <dt>Parameters</dt>
          <dd>{model.info.parameters.toLocaleString()}</dd>
          <dt>Vocabulary</dt>
          <dd>{model.info.vocabSize.toLocaleString()}</dd>
          <dt>Hook points</dt>
          <dd>{model.info.hookPoints.length}</dd>
        </dl>
      )}
      <form
        className="predict"
        onSubmit={(e) => {
          e.preventDefault();
          actions.predict(text);
        }}
      >
        <textarea aria-label="Prompt" value={text} onChange={(e) => setText(e.target.value)} rows={3} />
        <div className="row">
          <button type="submit" disabled={predict.running || !text.trim()}>
            Predict next token
          </button>
          {predict.running && (
            <button type="button" onClick={actions.cancelPredict}>
              Cancel
            </button>
          )}
        </div>
      </form>
      {predict.progress && <p className="muted">{predict.progress}</p>}
      {predict.error && <p className="error">{predict.error}</p>}
      {predict.result && (
        <table className="tokens" data-testid="predictions">
          <tbody>
            {predict.result.map((t) => (
              <tr key={t.id}>
                <td className="token">{JSON.stringify(t.token)}</td>
                <td className="prob">{(t.prob * 100).toFixed(2)}%</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
