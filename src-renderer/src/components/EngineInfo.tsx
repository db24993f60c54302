import React from 'react';
import { useWorkbench } from '../state';

export function EngineInfo(): React.JSX.Element {
  const { state } = useWorkbench();
  const info = state.appInfo;
  return (
    <section className="panel" data-testid="engine-info">
      <h2>Engine</h2>
      {state.appInfoError && <p className="error">{state.appInfoError}</p>}
      {!info && !state.appInfoError && <p className="muted">…</p>}
      {info && (
        <dl>
          <dt>Runtime</dt>
          <dd data-testid="engine-runtime">
            {info.engine.runtime} {info.engine.runtimeVersion ?? ''}
          </dd>
          <dt>ONNX opset</dt>
          <dd data-testid="engine-opset">{info.engine.opset}</dd>
          <dt>Provider</dt>
          <dd data-testid="engine-provider" title={`available on this platform: ${info.providers.join(', ')}`}>
            {info.provider}
          </dd>
          <dt>Host</dt>
          <dd>{info.host}</dd>
          <dt>Model</dt>
          <dd className="path">{info.model ?? 'none configured'}</dd>
        </dl>
      )}
    </section>
  );
}
