/**
 * Links to a feature's Neuronpedia page. The engine knows the Neuronpedia ids of the known
 * setups (src-main/hub/registry.ts, the `hub.links` channel); SAE sets it does not know (the demo)
 * get no link.
 */
import type { Response } from '../../../src-main/api/contract';

export type NeuronpediaLinks = NonNullable<Response<'hub.links'>['neuronpedia']>;

export function neuronpediaUrl(links: NeuronpediaLinks | null, submodule: string, feature: number): string | null {
  const saeId = links?.saeIds[submodule];
  if (!links || !saeId) return null;
  return links.featureUrl.replace('{saeId}', saeId).replace('{feature}', String(feature));
}
