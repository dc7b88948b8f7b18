import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';
import type { ProviderName } from '../../config/schema.js';
import type { ProviderRefusal } from '../types.js';
import { tinyModel, tinyModelIo } from './tiny-model.js';

export interface ProviderProbe {
  provider: ProviderName;
  ok: boolean;
  /** Session creation plus one run. */
  ms: number;
  /** Why the provider could not be used, in words a person can act on. */
  reason?: string;
}

/** The folder onnxruntime-node loads its native binding (and provider libraries) from. */
export function bindingDir(): string {
  const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  return path.join(path.dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
}

/** Provider libraries onnxruntime loads at run time, beside the binding. */
const providerLibraries: Partial<Record<ProviderName, string[]>> = {
  cuda: ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'],
  tensorrt: ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_tensorrt.so'],
};

/**
 * onnxruntime says only "Failed to load shared library" to JavaScript (the detail goes to its own
 * log). Find the cause ourselves: a provider library missing beside the binding, or one of its
 * dependencies (libcudart, libcudnn, libnvinfer…) missing, which dlopen names.
 */
export function explainLoadFailure(provider: ProviderName, dir = bindingDir()): string | undefined {
  for (const lib of providerLibraries[provider] ?? []) {
    const file = path.join(dir, lib);
    if (!existsSync(file)) return `${lib} is not beside the onnxruntime binding (${dir})`;
    try {
      process.dlopen({ exports: {} }, file);
    } catch (err) {
      const message = (err as Error).message;
      // Loaded fine: it is just not a Node addon.
      if (/self-register|napi_register_module/i.test(message)) continue;
      return `${lib} does not load: ${message.replace(`${file}: `, '')}`;
    }
  }
  return undefined;
}

/**
 * Keeps onnxruntime's own log to fatal errors: a refused provider is reported (with its cause) by the
 * probe, and ORT would print the same failure again as a red stack line on stderr.
 */
export function quietOrtLog(): void {
  ort.env.logLevel = 'fatal';
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

/**
 * Asks onnxruntime for a session on one provider alone (no silent fallback to CPU) and runs it once.
 * `config` is what the session gets for that provider (see executionProvider), so TensorRT options and
 * cache paths are exercised as a model would use them.
 */
export async function probeProvider(
  provider: ProviderName,
  config: ort.InferenceSession.ExecutionProviderConfig = provider,
): Promise<ProviderProbe> {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  let session: ort.InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(tinyModel(), {
      executionProviders: [config],
      graphOptimizationLevel: 'disabled',
      logSeverityLevel: 3,
    });
    const x = new ort.Tensor('float32', Float32Array.from([1.5]), [tinyModelIo.length]);
    const y = (await session.run({ [tinyModelIo.input]: x }))[tinyModelIo.output];
    if (y?.data[0] !== 3)
      return { provider, ok: false, ms: ms(), reason: `wrong result ${String(y?.data[0])}` };
    return { provider, ok: true, ms: ms() };
  } catch (err) {
    const message = errorText(err);
    const detail = /failed to load shared library/i.test(message) ? explainLoadFailure(provider) : undefined;
    return { provider, ok: false, ms: ms(), reason: detail ? `${message}: ${detail}` : message };
  } finally {
    await session?.release();
  }
}

/** What a provider fallback ended with: the value from the first provider that worked. */
export interface Fallback<T> {
  value: T;
  provider: ProviderName;
  refused: ProviderRefusal[];
}

/**
 * Tries providers in the configured order and keeps the first that works, remembering why the others
 * refused. Fails, listing every reason, when none works.
 */
export async function firstLoadable<T>(
  providers: readonly ProviderName[],
  attempt: (provider: ProviderName) => Promise<T>,
): Promise<Fallback<T>> {
  const refused: ProviderRefusal[] = [];
  for (const provider of providers) {
    try {
      return { value: await attempt(provider), provider, refused };
    } catch (err) {
      refused.push({ provider, reason: errorText(err) });
    }
  }
  const reasons = refused.map((r) => `${r.provider}: ${r.reason}`).join('; ');
  throw new Error(`no execution provider could be used (${reasons || 'none configured'})`);
}
