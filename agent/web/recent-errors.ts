import { redactUrl } from '../../config/redact-url.js';
import type { RecentError } from './status-schema.js';

/**
 * The last errors a person on site should see, newest first. The same message from the same place in a
 * row folds into one entry with a count, so a camera flapping all night does not push everything else out.
 */
export class RecentErrors {
  private readonly entries: RecentError[] = [];

  constructor(
    private readonly max = 50,
    private readonly now: () => number = Date.now,
  ) {}

  /** `at`: when it happened, if not now (a failure from before the page's service started). */
  add(source: RecentError['source'], message: string, camera?: string, at = this.now()): void {
    const text = redactUrl(message).slice(0, 500);
    const head = this.entries[0];
    if (head && head.source === source && head.camera === camera && head.message === text) {
      head.count++;
      head.at = at;
      return;
    }
    this.entries.unshift({ at, source, ...(camera ? { camera } : {}), message: text, count: 1 });
    if (this.entries.length > this.max) this.entries.length = this.max;
  }

  list(): RecentError[] {
    return this.entries.map((e) => ({ ...e }));
  }
}
