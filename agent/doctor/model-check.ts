import { stat } from 'node:fs/promises';
import type { VigilConfig } from '../../config/schema.js';
import { inspectModel } from '../../models/detect/inspect-model.js';
import { errorText, result, type CheckResult } from './check.js';

/**
 * Each configured model as the agent's load checks it before any session: there, whole (its sha256 when the
 * config gives one), an ONNX detector of a known layout whose config (family, inputSize, classNames, labels,
 * classes) fits it. A model the agent would refuse fails here. Creating sessions is the provider check's job.
 */
export async function checkModels(cfg: VigilConfig): Promise<CheckResult[]> {
  return Promise.all(
    Object.entries(cfg.models).map(async ([id, model]) => {
      const fail = (detail: string) => result('model', id, 'fail', detail);
      try {
        const s = await stat(model.path);
        if (!s.isFile()) return fail(`not a file: ${model.path}`);
        try {
          await inspectModel(id, model);
        } catch (err) {
          // The subject column already names the model.
          return fail(errorText(err).replace(`model "${id}": `, ''));
        }
        return result('model', id, 'pass', `${model.path} (${(s.size / 1e6).toFixed(1)} MB)`);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return fail(`file not found: ${model.path}`);
        if (code === 'EACCES') return fail(`file not readable: ${model.path}`);
        return fail(errorText(err));
      }
    }),
  );
}
