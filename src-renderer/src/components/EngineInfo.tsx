import React from 'react';
import { useAppState } from '../state/context';

export function EngineInfo(): React.JSX.Element {
  const info = useAppState((s) => s.appInfo);
  const error = useAppState((s) => s.appInfoError);
  return (
    <details className="panel engine" data-testid="engine-info">
      <summary>Engine</summary>
      {error && <p className="error">{error}</p>}
      {!info && !error && <p className="muted">…</p>}
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
    </details>
  );
}
