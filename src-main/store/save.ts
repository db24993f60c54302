/** Saving a discovery's circuit, from the API and from `sfc discover --save` alike. */
import type { CircuitFile } from '../circuits/circuit-file';
import type { Store } from './index';
import type { CircuitSummary } from './records';

export interface SaveRefs {
  name: string;
  /** A name the user chose is kept as is (and refused when taken); a default one is made unique. */
  explicitName: boolean;
  modelId: number;
  saeSetId: number;
  datasetId: number;
  tags?: string[];
}

export function saveDiscovery(store: Store, circuit: CircuitFile, refs: SaveRefs): CircuitSummary {
  return store.action(() => {
    // A discovery is where an SAE set's widths become known.
    store.library.setSaeShapes(refs.saeSetId, circuit.submodules);
    const name = refs.explicitName ? refs.name : store.circuits.freeName(refs.name);
    return store.circuits.save({ circuit, name, modelId: refs.modelId, saeSetId: refs.saeSetId, datasetId: refs.datasetId, tags: refs.tags });
  });
}
