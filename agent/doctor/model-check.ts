import { stat } from 'node:fs/promises';
import type { VigilConfig } from '../../config/schema.js';
import { readOnnxInfo } from '../../models/onnx/onnx-info.js';
import { sha256File } from '../../models/store/hash.js';
import { errorText, result, type CheckResult } from './check.js';

/**
 * Each configured model file is there, whole and an ONNX model: its sha256 when the config gives one, and its
 * graph read (a truncated or non-ONNX file fails here, as the agent would refuse it). Creating sessions is
 * the provider check's job.
 */
export async function checkModels(cfg: VigilConfig): Promise<CheckResult[]> {
  return Promise.all(
    Object.entries(cfg.models).map(async ([id, model]) => {
      const fail = (detail: string) => result('model', id, 'fail', detail);
      try {
        const s = await stat(model.path);
        if (!s.isFile()) return fail(`not a file: ${model.path}`);
        if (model.sha256) {
          const got = (await sha256File(model.path)).sha256;
          if (got !== model.sha256.toLowerCase())
            return fail(`${model.path} has sha256 ${got}, expected ${model.sha256} (truncated or altered)`);
        }
        try {
          readOnnxInfo(model.path);
        } catch (err) {
          return fail(`${model.path}: ${errorText(err)}`);
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
