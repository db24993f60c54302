import React from 'react';
import { WorkbenchContext, useWorkbenchStore } from './state';
import { Header } from './components/Header';
import { EngineInfo } from './components/EngineInfo';
import { ModelPanel } from './components/ModelPanel';
import { GraphView } from './components/GraphView';

export function App(): React.JSX.Element {
  const store = useWorkbenchStore();
  return (
    <WorkbenchContext.Provider value={store}>
      <div className="app">
        <Header />
        <div className="body">
          <aside className="sidebar">
            <EngineInfo />
            <ModelPanel />
          </aside>
          <main className="canvas">
            <GraphView />
          </main>
        </div>
      </div>
    </WorkbenchContext.Provider>
  );
}
