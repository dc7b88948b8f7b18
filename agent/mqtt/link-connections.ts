import { distinctUntilChanged, filter, map, skip, type Observable } from 'rxjs';
import type { LinkState } from './link-types.js';

const states = (state$: Observable<LinkState>) =>
  state$.pipe(
    map((s) => s.state),
    distinctUntilChanged(),
  );

/** Each time the link is connected: at once if it is now, then at every later connection. */
export function connections(state$: Observable<LinkState>): Observable<void> {
  return states(state$).pipe(
    filter((s) => s === 'connected'),
    map(() => undefined),
  );
}

/**
 * The connections after the state the link is in now: a broker met again, which may have lost its
 * retained messages (one restarted without persistence), so what is retained is published again.
 */
export function reconnections(state$: Observable<LinkState>): Observable<void> {
  return states(state$).pipe(
    skip(1),
    filter((s) => s === 'connected'),
    map(() => undefined),
  );
}
