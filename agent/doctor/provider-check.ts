import type { ModelConfig, ProviderName, VigilConfig } from '../../config/schema.js';
import { executionProvider } from '../../models/runtime/execution-provider.js';
import { probeProvider, quietOrtLog, type ProviderProbe } from '../../models/runtime/provider-probe.js';
import { result, type CheckResult } from './check.js';

export type Probe = typeof probeProvider;

/**
 * Each execution provider the models ask for, actually loaded: a session on the tiny probe model with
 * that provider alone, using the first such model's options (TensorRT cache paths, device). A provider
 * that does not load is a warning while every model listing it has another that does (the agent falls
 * back, more slowly); it is a failure when some model is left with none.
 */
export async function checkProviders(cfg: VigilConfig, probe: Probe = probeProvider): Promise<CheckResult[]> {
  quietOrtLog();
  const models = Object.entries(cfg.models);
  const wanted = [...new Set(models.flatMap(([, m]) => m.providers))];
  const probes = new Map<ProviderName, ProviderProbe>();
  for (const provider of wanted) {
    // Sequential: a TensorRT probe builds an engine and can hold the GPU for seconds.
    const [, model] = models.find(([, m]) => m.providers.includes(provider))!;
    probes.set(provider, await probe(provider, executionProvider(provider, model, cfg.dataDir)));
  }
  const firstLoaded = (m: ModelConfig) => m.providers.find((p) => probes.get(p)?.ok);
  return wanted.map((provider) => {
    const p = probes.get(provider)!;
    if (p.ok) return result('provider', provider, 'pass', `session created and ran in ${p.ms} ms`);
    const users = models.filter(([, m]) => m.providers.includes(provider));
    const stranded = users.filter(([, m]) => !firstLoaded(m)).map(([id]) => id);
    const fallbacks = users
      .filter(([, m]) => firstLoaded(m))
      .map(([id, m]) => `model ${id} uses ${firstLoaded(m)}`);
    const consequence = stranded.length
      ? `model${stranded.length > 1 ? 's' : ''} ${stranded.join(', ')} ha${stranded.length > 1 ? 've' : 's'} no provider that loads`
      : fallbacks.join(', ');
    return result('provider', provider, stranded.length ? 'fail' : 'warn', `${p.reason}; ${consequence}`);
  });
}
