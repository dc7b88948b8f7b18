import { BehaviorSubject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { connections, reconnections } from '../../../agent/mqtt/link-connections.js';
import type { LinkState } from '../../../agent/mqtt/link-types.js';

// The link's states as MqttLink's state$ gives them (a BehaviorSubject: the current one at subscription).
const link = (first: LinkState['state']) => new BehaviorSubject<LinkState>({ state: first, since: 0 });
const go = (s: BehaviorSubject<LinkState>, ...states: LinkState['state'][]) => {
  for (const state of states) s.next({ state, since: 1 });
};

describe('connections and reconnections of the link', () => {
  it('connections: the one up now, then each new one; a repeated state is not a new connection', () => {
    const s = link('connected');
    let n = 0;
    const sub = connections(s).subscribe(() => n++);
    expect(n).toBe(1);
    go(s, 'connected', 'disconnected', 'connecting', 'disconnected', 'connecting', 'connected');
    expect(n).toBe(2);
    sub.unsubscribe();
  });

  it('reconnections: only those after the state at subscription, whether it was up or not', () => {
    const up = link('connected');
    let a = 0;
    reconnections(up).subscribe(() => a++);
    go(up, 'connected', 'disconnected', 'connecting', 'connected');
    expect(a).toBe(1);

    const down = link('connecting');
    let b = 0;
    reconnections(down).subscribe(() => b++);
    go(down, 'connected', 'disconnected', 'connected', 'stopped');
    expect(b).toBe(2);
  });
});
