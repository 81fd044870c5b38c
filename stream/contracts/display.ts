import type { AamiClass } from './aami.js';
import type { AlarmPriority, AlarmType } from './alarms.js';
import type { DecisionReason } from './decisions.js';
import type { AlertMessage } from './messages.js';

/**
 * The central station's wire contract between the gateway and a browser (version 1).
 *
 * Binary messages carry waveforms (`ECGD` display frames): the gateway filters each lead as the
 * monitor does (0.5–40 Hz, mains notch), resamples it to 125 Hz and sends int16 microvolts,
 * batched per 250 ms, every subscribed bed in one message. Layout, little-endian:
 *   0 magic "ECGD"   4 version u8 (1)   5 flags u8 (bit 0: snapshot, the bed's last 10 s)
 *   6 bed count u16, then per bed:
 *     bed id (u8 length + UTF-8), seq u32 (per bed, +1 per display frame sent to anyone),
 *     first sample f64 (index at 125 Hz since the gateway first saw the bed's stream),
 *     lead count u8, samples per lead u16, per lead its name (u8 length + UTF-8),
 *     then the samples, lead after lead (int16 µV; -32768 marks a sample the gateway does not have).
 * JSON messages carry everything else (`GatewayMessage`, `ClientMessage`). Types only here: the
 * browser bundle imports this file as types; the encoder lives in gateway/, the decoder in ui/,
 * both tested against the same byte fixture.
 */
export const DISPLAY_HZ = 125;

/** The gateway's view of its Kafka cluster, shown on every screen. */
export type KafkaState = 'ok' | 'unreachable';

export type Role = 'viewer' | 'nurse' | 'admin';

/** A beat as the central station shows it. */
export interface BeatView {
  readonly bedId: string;
  readonly rPeakSample: number;
  /** The R peak at 125 Hz, on the bed's display time line (the waveform's sample index). */
  readonly displaySample: number;
  readonly timeS: number;
  readonly rrS: number | null;
  readonly label: AamiClass;
  readonly probabilities: Record<AamiClass, number>;
  readonly reason: DecisionReason;
  readonly votedV: number;
  readonly quality: number;
  /** The reference annotation's class (replays only), where one is within 150 ms. */
  readonly reference?: AamiClass | 'other';
}

/** One bed's state on the central station. */
export interface BedState {
  readonly bedId: string;
  /** Where the signal comes from (`mitdb/208`, `device/ab12`). */
  readonly source: string;
  readonly leads: readonly string[];
  /** Heart rate over the last 8 beats, bpm; null before two beats. */
  readonly hr: number | null;
  /** The rhythm an active rhythm alarm names, else "regular" or "—" before any beat. */
  readonly rhythm: string;
  readonly lastBeat: AamiClass | null;
  /** Signal quality of the last beat, 0..1. */
  readonly quality: number | null;
  readonly activeAlarms: readonly AlarmSummary[];
  /** Gateway wall clock of the bed's last frame, ms. */
  readonly lastDataMs: number;
  /** No frame for 5 s: the strip is not live. */
  readonly stale: boolean;
  /** Signal time per wall time over the last frames (1 live; a replay's speed). */
  readonly speed: number | null;
}

export interface AlarmSummary {
  readonly id: string;
  readonly type: AlarmType;
  readonly priority: AlarmPriority;
  readonly acknowledged: boolean;
  readonly onsetS: number;
  readonly detail?: string;
}

/** An alert as stored and sent by the gateway: the message, its place in the gateway's history, and who acknowledged it. */
export interface AlertView {
  /** The gateway's sequence number: a resume token is the last one a client saw. */
  readonly seq: number;
  readonly alert: AlertMessage;
  /** When the gateway stored it, ms. */
  readonly receivedMs: number;
  readonly acknowledgedBy?: { readonly by: string; readonly atMs: number };
}

export type GatewayMessage =
  | {
      readonly type: 'hello';
      readonly v: 1;
      readonly gatewayId: string;
      readonly user: { readonly name: string; readonly role: Role };
      readonly kafka: KafkaState;
      readonly serverMs: number;
    }
  /** On (re)subscribing: each subscribed bed's state and the alerts missed since `resume` (waveform as binary). */
  | {
      readonly type: 'snapshot';
      readonly beds: readonly BedState[];
      readonly alerts: readonly AlertView[];
      readonly resume: number;
    }
  | { readonly type: 'alert'; readonly view: AlertView }
  /** The beats published since the last such message (every 250 ms at most). */
  | { readonly type: 'beats'; readonly beats: readonly BeatView[] }
  | { readonly type: 'bed'; readonly state: BedState }
  | { readonly type: 'kafka'; readonly state: KafkaState; readonly sinceMs: number }
  /** Waveform frames the gateway dropped for this client (it fell behind): the strip shows the gap. */
  | { readonly type: 'dropped'; readonly frames: number; readonly beds: readonly string[] }
  | { readonly type: 'error'; readonly message: string };

export type ClientMessage =
  | {
      readonly type: 'subscribe';
      /** The whole ward, or these beds. */
      readonly beds: 'ward' | readonly string[];
      /** The last alert seq this client has (0: none): every alert after it is sent again. */
      readonly resume: number;
    }
  | { readonly type: 'ping' };
