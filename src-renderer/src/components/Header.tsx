import React from 'react';
import { useWorkbench } from '../state';

export function Header(): React.JSX.Element {
  const { state } = useWorkbench();
  const { status, detail } = state.connection;
  return (
    <header className="header">
      <h1>SFC Workbench</h1>
      <span className="version" data-testid="app-version">
        {state.appInfo ? `v${state.appInfo.version}` : ''}
      </span>
      <span className={`status status-${status}`} data-testid="connection-status" data-status={status} title={detail ?? ''}>
        {status}
      </span>
      {status === 'error' && detail && <span className="error" data-testid="connection-error">{detail}</span>}
    </header>
  );
}
