import { closestField } from '../../config/config-issues.js';

/**
 * The `labels` and `classes` keys of a model's config that name no class of the model, as one message, or
 * undefined when all match. Both are keyed by the model's own class names: a key the model lacks ("Person",
 * "trucks") would otherwise be ignored without a word, and with `onlyMapped` every detection dropped.
 */
export function unknownClassKeys(
  cfg: { labels: Record<string, string>; classes: Record<string, unknown> },
  classNames: readonly string[],
): string | undefined {
  const known = new Set(classNames);
  const problems: string[] = [];
  for (const [field, map] of [
    ['labels', cfg.labels],
    ['classes', cfg.classes],
  ] as const) {
    for (const key of Object.keys(map)) {
      if (known.has(key)) continue;
      const near = closestField(key, classNames);
      problems.push(`${field}.${key}${near ? ` (did you mean "${near}"?)` : ''}`);
    }
  }
  if (!problems.length) return undefined;
  const shown = classNames.slice(0, 12).join(', ');
  const more = classNames.length > 12 ? `, … (${classNames.length} in all)` : '';
  const verb = problems.length === 1 ? 'names no class' : 'name no class';
  return `${problems.join(', ')} ${verb} of this model (its classes: ${shown}${more})`;
}
