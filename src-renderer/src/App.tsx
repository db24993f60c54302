import React from 'react';
import { WorkbenchProvider, useAppState } from './state/context';
import { Header } from './components/Header';
import { EngineInfo } from './components/EngineInfo';
import { ModelPanel } from './components/ModelPanel';
import { GraphView } from './components/graph/GraphView';
import { LibraryPanel } from './components/library/LibraryPanel';
import { DropZone } from './components/library/DropZone';
import { CircuitBar } from './components/CircuitBar';
import { SidePane } from './components/SidePane';
import { Notice } from './components/Notice';
import { DiscoverView } from './components/views/DiscoverView';
import { EvaluateView } from './components/views/EvaluateView';
import { CompareView } from './components/views/CompareView';
import { ShiftView } from './components/views/ShiftView';
import { useShortcuts } from './keyboard';

export function App(): React.JSX.Element {
  return (
    <WorkbenchProvider>
      <Workbench />
    </WorkbenchProvider>
  );
}

function Workbench(): React.JSX.Element {
  useShortcuts();
  const view = useAppState((s) => s.view);
  const hasCircuit = useAppState((s) => s.circuit !== null);
  return (
    <div className="app">
      <Header />
      <div className="body">
        <aside className="sidebar" aria-label="Library and engine">
          <LibraryPanel />
          <EngineInfo />
          <ModelPanel />
        </aside>
        <main className="main">
          <CircuitBar />
          <div className="views">
            {/* The graph stays mounted while another view shows, so coming back costs nothing. */}
            <GraphView hidden={view !== 'graph'} />
            {view === 'discover' && <DiscoverView />}
            {view === 'evaluate' && <EvaluateView />}
            {view === 'compare' && <CompareView />}
            {view === 'shift' && <ShiftView />}
          </div>
          <Notice />
        </main>
        {hasCircuit && view === 'graph' && <SidePane />}
      </div>
      <DropZone />
    </div>
  );
}
