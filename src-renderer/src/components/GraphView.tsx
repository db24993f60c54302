import React from 'react';
import { Background, Controls, ReactFlow, type Edge, type Node } from '@xyflow/react';
import '@xyflow/react/dist/style.css';

// Placeholder home of the circuit editor: an empty canvas until circuits arrive.
const nodes: Node[] = [];
const edges: Edge[] = [];

export function GraphView(): React.JSX.Element {
  return (
    <div className="graph" data-testid="graph-view">
      <ReactFlow nodes={nodes} edges={edges} fitView>
        <Background />
        <Controls />
      </ReactFlow>
      <p className="graph-empty muted">No circuit loaded.</p>
    </div>
  );
}
