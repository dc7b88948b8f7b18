import { describe, expect, it } from 'vitest';
import type { LinkState } from '../../../agent/mqtt/link-types.js';
import { LinkStateLog } from '../../../agent/mqtt/link-state-log.js';
import { logLines } from '../../support/log-lines.js';

const url = 'mqtt://broker.example:1883';

function stateLog() {
  const { log, lines } = logLines('debug');
  const states = new LinkStateLog(log, url);
  const seen: LinkState[] = [];
  states.state$.subscribe((s) => seen.push(s));
  return { states, lines, seen };
}

describe('LinkStateLog', () => {
  it('keeps the time the link went down through its retries, and tells only changes', () => {
    const { states, seen } = stateLog();
    const down = states.state.since;
    states.set('connecting');
    states.set('disconnected');
    states.set('disconnected'); // no change: not told again
    expect(seen.map((s) => [s.state, s.since])).toEqual([
      ['disconnected', down],
      ['connecting', down],
      ['disconnected', down],
    ]);
    states.set('connected');
    states.set('connecting'); // a drop: down again from now
    const dropped = states.state.since;
    states.set('disconnected');
    expect(seen.slice(-3).map((s) => s.state)).toEqual(['connected', 'connecting', 'disconnected']);
    expect(states.state.since).toBe(dropped);
  });

  it('logs an error once per outage but records each, and a new connection makes it news again', () => {
    const { states, lines } = stateLog();
    states.error(new Error('ECONNREFUSED'));
    states.set('connecting');
    states.error(new Error('ECONNREFUSED'));
    expect(states.state).toMatchObject({ state: 'connecting', lastError: { message: 'ECONNREFUSED' } });
    states.connected({ clientId: 'vigil-s-d', window: 16, protocol: '5' });
    expect(states.state.lastError?.message).toBe('ECONNREFUSED'); // kept for health after the reconnect
    states.lost(3);
    states.error(new Error('ECONNREFUSED'));
    expect(
      lines.map(({ level, msg, url: u, ...rest }) => [level, msg, u, rest.reason ?? rest.unacked]),
    ).toEqual([
      ['warn', 'mqtt error', url, 'ECONNREFUSED'],
      ['info', 'connected', url, undefined],
      ['warn', 'connection to the broker lost, reconnecting', url, 3],
      ['warn', 'mqtt error', url, 'ECONNREFUSED'],
    ]);
    expect(lines[1]).toMatchObject({ clientId: 'vigil-s-d', window: 16, protocol: '5' });
  });

  it('completes state$ when the link stops', () => {
    const { states } = stateLog();
    let completed = false;
    states.state$.subscribe({ complete: () => (completed = true) });
    states.set('stopped');
    states.complete();
    expect([states.state.state, completed]).toEqual(['stopped', true]);
  });
});
