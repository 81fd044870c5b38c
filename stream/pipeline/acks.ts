import { Subject, type Observable } from 'rxjs';
import type { AckKeyRing } from '../contracts/ackSignature.js';
import type { AckMessage, SignedAck } from '../contracts/messages.js';
import { TOPICS } from '../contracts/topics.js';
import type { MalformedMessages } from '../kafka/malformed.js';

/**
 * Acknowledgements remembered per worker. Only those of the last minute or so matter: an alarm
 * a worker raises again (a rebalance or a restart re-reads the last 20 s of frames) was raised
 * lately. A ward of 100 beds acknowledging a few alarms a bed an hour takes more than a day to
 * reach this many; the memory stays bounded (a few hundred bytes each) however long it runs.
 */
export const REMEMBERED_ACKS = 10_000;

/**
 * How far the acknowledging station's clock may lag the producer's: an acknowledgement dated more
 * than this before the alarm was raised was made before the alarm existed.
 */
export const ACK_CLOCK_SKEW_MS = 2000;

/** Why an acknowledgement was not applied: a stable code for counters and once-only warnings. */
export type AckRefusal = 'no-keys' | 'unsigned' | 'unknown-key' | 'bad-signature' | 'replayed' | 'advance';

/**
 * The acknowledgements a pipeline worker has read from `ecg.acks`, for every bed (the bed's
 * alarms may be raised by this worker later, after a rebalance). Only those validly signed with a
 * key of the ring are kept, each once (a replayed one, same nonce, is refused); and one applies
 * to an alarm only if it was made after the alarm was raised (an acknowledgement made in advance
 * is refused). Every refusal is counted and warned about once per kind.
 */
export class AlarmAcks {
  /** Alarm ids, oldest first (a Map keeps insertion order), with their acknowledgement. */
  private readonly ids = new Map<string, SignedAck>();
  /** Nonces of the acknowledgements kept: a message seen again is a replay. */
  private readonly nonces = new Set<string>();
  private readonly arriving = new Subject<SignedAck>();
  /** Each acknowledgement as it is accepted. */
  readonly arrivals: Observable<SignedAck> = this.arriving.asObservable();

  constructor(
    private readonly keys: AckKeyRing | undefined,
    private readonly refusals: MalformedMessages,
    private readonly remembered = REMEMBERED_ACKS,
  ) {}

  receive(ack: AckMessage): void {
    if (this.keys === undefined) return this.refuse('no-keys', ack, 'no acknowledgement keys (ECG_ACK_KEYS) are set');
    const verdict = this.keys.verify(ack);
    if (verdict !== 'valid' || ack.v !== 2) return this.refuse(verdict === 'valid' ? 'unsigned' : verdict, ack);
    if (this.nonces.has(ack.nonce)) return this.refuse('replayed', ack);
    this.ids.delete(ack.alertId);
    this.ids.set(ack.alertId, ack);
    this.nonces.add(ack.nonce);
    for (const [oldest, kept] of this.ids) {
      if (this.ids.size <= this.remembered) break;
      this.ids.delete(oldest);
      this.nonces.delete(kept.nonce);
    }
    this.arriving.next(ack);
  }

  /**
   * Whether an accepted acknowledgement applies to `alarm`: one of its id made no earlier than it
   * was raised (less the clock skew allowed). One made before it is refused, once.
   */
  appliesTo(alarm: { readonly id: string; readonly raisedAtMs: number }): boolean {
    const ack = this.ids.get(alarm.id);
    if (ack === undefined) return false;
    if (ack.atMs >= alarm.raisedAtMs - ACK_CLOCK_SKEW_MS) return true;
    this.ids.delete(alarm.id);
    this.refuse('advance', ack, `made ${alarm.raisedAtMs - ack.atMs} ms before the alarm was raised`);
    return false;
  }

  private refuse(code: AckRefusal, ack: AckMessage, detail?: string): void {
    this.refusals.record(
      TOPICS.acks,
      { code, message: `of ${ack.alertId} by ${ack.by}: ${detail ?? code}` },
      'ignoring an acknowledgement',
    );
  }
}
