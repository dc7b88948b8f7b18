import { describe, expect, it } from 'vitest';
import { unknownClassKeys } from '../../../models/detect/class-keys.js';
import { cocoNames } from '../../../models/detect/coco-names.js';

describe('unknownClassKeys', () => {
  it('accepts keys that are class names of the model', () => {
    const cfg = { labels: { person: 'worker', truck: 'forklift' }, classes: { person: { minArea: 400 } } };
    expect(unknownClassKeys(cfg, cocoNames)).toBeUndefined();
    expect(unknownClassKeys({ labels: {}, classes: {} }, cocoNames)).toBeUndefined();
  });

  it('names each unknown key, the class it most likely meant, and the model classes', () => {
    const msg = unknownClassKeys({ labels: { Person: 'person' }, classes: { forklift: {} } }, cocoNames);
    expect(msg).toBe(
      'labels.Person (did you mean "person"?), classes.forklift name no class of this model (its classes: person, bicycle, car, motorcycle, airplane, bus, train, truck, boat, traffic light, fire hydrant, stop sign, … (80 in all))',
    );
  });

  it('lists a short class list whole, and speaks of one key in the singular', () => {
    expect(unknownClassKeys({ labels: { class2: 'x' }, classes: {} }, ['class0', 'class1'])).toBe(
      'labels.class2 (did you mean "class0"?) names no class of this model (its classes: class0, class1)',
    );
  });
});
