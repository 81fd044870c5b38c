import { Subject, type Observable } from 'rxjs';
import type { AckMessage } from '../contracts/messages.js';

/**
 * Acknowledgements remembered per worker. Only those of the last minute or so matter: an alarm
 * a worker raises again (a rebalance or a restart re-reads the last 20 s of frames) was raised
 * lately. A ward of 100 beds acknowledging a few alarms a bed an hour takes more than a day to
 * reach this many; the memory stays bounded (a few hundred bytes each) however long it runs.
 */
export const REMEMBERED_ACKS = 10_000;

/**
 * The acknowledgements a pipeline worker has read from `ecg.acks`, for every bed (the bed's
 * alarms may be raised by this worker later, after a rebalance): as they arrive, and which
 * alarm ids have been acknowledged, up to `remembered` of the latest.
 */
export class AlarmAcks {
  /** Alarm ids, oldest first (a Map keeps insertion order). */
  private readonly ids = new Map<string, AckMessage>();
  private readonly arriving = new Subject<AckMessage>();
  /** Each acknowledgement as it is received. */
  readonly arrivals: Observable<AckMessage> = this.arriving.asObservable();

  constructor(private readonly remembered = REMEMBERED_ACKS) {}

  receive(ack: AckMessage): void {
    this.ids.delete(ack.alertId);
    this.ids.set(ack.alertId, ack);
    for (const oldest of this.ids.keys()) {
      if (this.ids.size <= this.remembered) break;
      this.ids.delete(oldest);
    }
    this.arriving.next(ack);
  }

  has(alertId: string): boolean {
    return this.ids.has(alertId);
  }
}
