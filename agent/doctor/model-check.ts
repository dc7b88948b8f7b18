import { stat } from 'node:fs/promises';
import type { VigilConfig } from '../../config/schema.js';
import { errorText, result, type CheckResult } from './check.js';

/** Each configured model file is there (loading it is the agent's job; this catches a wrong path early). */
export async function checkModels(cfg: VigilConfig): Promise<CheckResult[]> {
  return Promise.all(
    Object.entries(cfg.models).map(async ([id, model]) => {
      try {
        const s = await stat(model.path);
        if (!s.isFile()) return result('model', id, 'fail', `not a file: ${model.path}`);
        return result('model', id, 'pass', `${model.path} (${(s.size / 1e6).toFixed(1)} MB)`);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return result(
          'model',
          id,
          'fail',
          code === 'ENOENT' ? `file not found: ${model.path}` : errorText(err),
        );
      }
    }),
  );
}
