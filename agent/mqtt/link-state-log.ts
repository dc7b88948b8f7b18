import { BehaviorSubject, type Observable } from 'rxjs';
import type { Logger } from '../../config/logger.js';
import type { LinkState } from './link-types.js';

/**
 * What the MQTT link says about its connection, to its observers (`state$`) and to the log: a retry is not
 * news, and a broker that stays away logs its error once per outage. Apart from the link: none of it moves a row.
 */
export class LinkStateLog {
  private readonly subject = new BehaviorSubject<LinkState>({ state: 'disconnected', since: Date.now() });
  readonly state$: Observable<LinkState> = this.subject.asObservable();
  /** The error last logged: a broker that stays away logs once per outage, not at every attempt. */
  private loggedError: string | undefined;

  constructor(
    private readonly log: Logger,
    private readonly url: string,
  ) {}

  get state(): LinkState {
    return this.subject.value;
  }

  /** A connection is up: logged with its details, and the next error is news again. */
  connected(details: { clientId: string; window: number; protocol: string }): void {
    this.log.info('connected', { url: this.url, ...details });
    this.loggedError = undefined;
    this.set('connected');
  }

  /** An established connection dropped (not the link stopping), with `unacked` rows to re-send. */
  lost(unacked: number): void {
    // Without this line the log's last word on the link would be "connected" all through an outage.
    this.log.warn('connection to the broker lost, reconnecting', { url: this.url, unacked });
  }

  error(err: Error): void {
    // A broker that stays away would otherwise log the same line at every attempt.
    if (err.message !== this.loggedError) this.log.warn('mqtt error', { reason: err.message, url: this.url });
    this.loggedError = err.message;
    this.subject.next({ ...this.state, lastError: { message: err.message, at: Date.now() } });
  }

  set(state: LinkState['state']): void {
    if (this.state.state === state) return;
    const { lastError } = this.state;
    // A retry is not news: "disconnected since 2 s" would hide a broker that has been away for an hour.
    const down = (s: LinkState['state']) => s === 'connecting' || s === 'disconnected';
    const since = down(state) && down(this.state.state) ? this.state.since : Date.now();
    this.subject.next(lastError ? { state, since, lastError } : { state, since });
  }

  /** The link stopped for good: observers see `state$` complete. */
  complete(): void {
    this.subject.complete();
  }
}
