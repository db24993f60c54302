/** The Neuronpedia ids of an SAE set (hub.links, asked once per set), for links on features. */
import { useEffect, useState } from 'react';
import type { NeuronpediaLinks } from '../util/neuronpedia';
import { useActions } from './context';

export function useNeuronpediaLinks(saeSetId: number | null): NeuronpediaLinks | null {
  const actions = useActions();
  const [links, setLinks] = useState<NeuronpediaLinks | null>(null);
  useEffect(() => {
    let live = true;
    if (saeSetId !== null) void actions.neuronpediaLinks(saeSetId).then((l) => live && setLinks(l));
    return () => {
      live = false;
    };
  }, [saeSetId, actions]);
  return links;
}
