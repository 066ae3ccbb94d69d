import type { Alert } from '@app/alerting';

/** Stands in for AlertService in unit specs: keeps what was raised and which kinds were resolved. */
export class FakeAlerts {
  readonly raised: Alert[] = [];
  readonly resolved: string[] = [];

  raise(alert: Alert): void {
    this.raised.push(alert);
  }

  resolve(kind: string): void {
    this.resolved.push(kind);
  }
}

/** Lets the object under test run until it waits on its clock again: in these specs it waits on nothing else. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
