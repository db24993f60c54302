import React from 'react';
import { useAppState } from '../state/context';

export function Header(): React.JSX.Element {
  const appInfo = useAppState((s) => s.appInfo);
  const { status, detail } = useAppState((s) => s.connection);
  return (
    <header className="header">
      <h1>SFC Workbench</h1>
      <span className="version" data-testid="app-version">
        {appInfo ? `v${appInfo.version}` : ''}
      </span>
      <span className={`status status-${status}`} data-testid="connection-status" data-status={status} title={detail ?? ''}>
        {status}
      </span>
      {status === 'error' && detail && <span className="error" data-testid="connection-error">{detail}</span>}
    </header>
  );
}
