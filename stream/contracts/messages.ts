import { ALARM_PRIORITY, bedOfAlarmId } from './alarms.js';
import { DECISION_REASONS } from './decisions.js';
import { AAMI_CLASSES } from './aami.js';
import { z } from 'zod';
import { MonitorError } from './errors.js';

/** Why a JSON message was refused: a stable code per kind, for counters and once-only warnings. */
export type MessageErrorCode = 'not-json' | 'invalid' | 'unsupported-version';

export class MessageDecodeError extends MonitorError {
  readonly code: MessageErrorCode;

  constructor(topic: string, code: MessageErrorCode, message: string) {
    super(`${topic}: ${message}`, { retriable: false });
    this.code = code;
  }
}

const aamiClass = z.enum(AAMI_CLASSES);
const probabilities = z.object(
  Object.fromEntries(AAMI_CLASSES.map((c) => [c, z.number().min(0).max(1)])) as Record<
    (typeof AAMI_CLASSES)[number],
    z.ZodNumber
  >,
);
const bedId = z.string().min(1).max(255);

/** `ecg.beats` v1: one classified beat. */
export const BeatMessageSchema = z.object({
  v: z.literal(1),
  bedId,
  source: z.string(),
  /** R peak, sample index of the bed's stream at its source rate. */
  rPeakSample: z.number().int().nonnegative(),
  /** Stream time of the R peak, s. */
  timeS: z.number().nonnegative(),
  /** RR before this beat, s; null for the first beat after a (re)start. */
  rrS: z.number().positive().nullable(),
  label: aamiClass,
  /** The network's own class probabilities. */
  probabilities,
  /**
   * Why the label is what it is (`network`, `family`, `premature`, `irregular-rhythm`, `not-premature`,
   * `premature-pause`: see DecisionReason), and p(V) after the beat's morphology family voted.
   */
  decision: z.object({
    reason: z.enum(DECISION_REASONS),
    votedV: z.number().min(0).max(1),
  }),
  modelId: z.string(),
  /** Signal quality of the beat's surroundings, 0 (unusable) to 1. */
  quality: z.number().min(0).max(1),
  latency: z.object({
    /** Producer wall clock of the frame that completed the beat's window, ms. */
    windowCompleteMs: z.number(),
    /** When the beat event was produced, ms. */
    publishedMs: z.number(),
  }),
});
export type BeatMessage = z.infer<typeof BeatMessageSchema>;

const evidenceBeat = z.object({
  rPeakSample: z.number().int().nonnegative(),
  label: aamiClass,
  /** The normalised 187-sample window the classifier saw... */
  window: z.array(z.number()),
  /** ...and the Grad-CAM curve explaining its class, 0..1 per sample. */
  gradCam: z.array(z.number().min(0).max(1)),
  /** Where the R peak sits in `window` (absent in messages of monitors before 0.10). */
  rIndex: z.number().int().nonnegative().optional(),
});

/** `ecg.alerts` v1: the whole state of an alarm at each of its changes. */
export const AlertMessageSchema = z.object({
  v: z.literal(1),
  id: z.string().min(1),
  bedId,
  type: z.enum(Object.keys(ALARM_PRIORITY) as [keyof typeof ALARM_PRIORITY, ...(keyof typeof ALARM_PRIORITY)[]]),
  priority: z.enum(['high', 'medium', 'low', 'technical']),
  state: z.enum(['active', 'ended']),
  acknowledged: z.boolean(),
  onsetS: z.number().nonnegative(),
  raisedS: z.number().nonnegative(),
  endS: z.number().nonnegative().nullable(),
  evidence: z.array(z.number().int().nonnegative()),
  /** For beat-driven alarms: the beats that raised it, each with its Grad-CAM explanation. */
  explanation: z.array(evidenceBeat),
  /**
   * Producer wall clock (ms) of the frame or beat that raised the alarm: an acknowledgement made
   * before it cannot be of this alarm. Absent in messages of monitors before 0.9.
   */
  raisedAtMs: z.number().optional(),
  /**
   * What a technical alarm is about, or what confirmed an arrhythmia alarm, in words (e.g.
   * "sample rate 50 Hz below 100 Hz", "lead V flat", "no pulse in PLETH for 6 s").
   */
  detail: z.string().max(300).optional(),
  /** The lead a lead alarm (lead-off, flat-line, saturation) is about (absent before 0.11). */
  lead: z.string().max(64).optional(),
  publishedMs: z.number(),
});
export type AlertMessage = z.infer<typeof AlertMessageSchema>;

/** `ecg.reference` v1 (replays only): a reference annotation, for live scoring. */
export const ReferenceMessageSchema = z.object({
  v: z.literal(1),
  bedId,
  source: z.string(),
  sample: z.number().int().nonnegative(),
  timeS: z.number().nonnegative(),
  symbol: z.string().min(1).max(2),
  aux: z.string(),
});
export type ReferenceMessage = z.infer<typeof ReferenceMessageSchema>;

const ackFields = {
  bedId,
  /** The `id` of the `ecg.alerts` message acknowledged. */
  alertId: z.string().min(1).max(400),
  /** Who acknowledged it (an authenticated user, a station, a system), for the audit trail. */
  by: z.string().min(1).max(255),
  /** When, wall clock ms. */
  atMs: z.number(),
};

/**
 * `ecg.acks` v2: a nurse, or a system integrated with the monitor, acknowledged an alarm, signed
 * by whoever holds an acknowledgement key (the central-station gateway, `npm run ack`): HMAC-SHA256
 * with key `keyId` over `canonicalAck` (see ackSignature.ts). `nonce` makes each acknowledgement
 * unique, so a replayed one is told apart. The worker monitoring the bed publishes the alarm again
 * in `ecg.alerts`, `acknowledged: true`. v1 (unsigned) is still decoded, and never applied.
 */
const AckV2Schema = z.object({
  v: z.literal(2),
  ...ackFields,
  nonce: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  keyId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  sig: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
});
const AckV1Schema = z.object({ v: z.literal(1), ...ackFields });

export const AckMessageSchema = z.discriminatedUnion('v', [AckV1Schema, AckV2Schema]).superRefine((m, ctx) => {
  if (bedOfAlarmId(m.alertId) !== m.bedId)
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: "not an alarm id of the bed (an alarm's id is bedId/type/onset)",
      path: ['alertId'],
    });
});
export type AckMessage = z.infer<typeof AckMessageSchema>;
/** A signed acknowledgement, as it is written now. */
export type SignedAck = Extract<AckMessage, { v: 2 }>;

/**
 * `ecg.dead-letter` v1: a message a consumer could not use, with why and where it came from, so an
 * operator can find its producer; the worker's committed offset moves past it.
 */
export const DeadLetterMessageSchema = z.object({
  v: z.literal(1),
  /** Where the message was read. */
  topic: z.string().min(1),
  partition: z.number().int().nonnegative(),
  offset: z.string().regex(/^\d+$/),
  /** The bed it named, where it could be decoded that far. */
  bedId: z.string().max(255).nullable(),
  /** A stable code (`sample-rate`, `gain`, `bed-failure`, ...) and the reason in words. */
  code: z.string().min(1).max(64),
  reason: z.string().min(1).max(500),
  /** Who set it aside (a worker's client id) and when, wall clock ms. */
  by: z.string().min(1).max(255),
  atMs: z.number(),
  /** The message's bytes, base64. */
  payload: z.string(),
});
export type DeadLetterMessage = z.infer<typeof DeadLetterMessageSchema>;

function codec<T>(topic: string, schema: z.ZodType<T>, versions: readonly number[] = [1]) {
  return {
    encode(message: T): Buffer {
      return Buffer.from(JSON.stringify(schema.parse(message)));
    },
    decode(bytes: Uint8Array): T {
      let value: unknown;
      try {
        value = JSON.parse(Buffer.from(bytes).toString('utf8'));
      } catch {
        throw new MessageDecodeError(topic, 'not-json', 'message is not JSON');
      }
      if (typeof value === 'object' && value !== null && 'v' in value && !versions.includes(value.v as number)) {
        throw new MessageDecodeError(
          topic,
          'unsupported-version',
          `version ${String(value.v)}; this decoder reads ${versions.join(' and ')}`,
        );
      }
      const parsed = schema.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new MessageDecodeError(topic, 'invalid', `${issue.path.join('.') || 'message'}: ${issue.message}`);
      }
      return parsed.data;
    },
  };
}

export const beatCodec = codec('ecg.beats', BeatMessageSchema);
export const alertCodec = codec('ecg.alerts', AlertMessageSchema);
export const referenceCodec = codec('ecg.reference', ReferenceMessageSchema);
export const ackCodec = codec('ecg.acks', AckMessageSchema, [1, 2]);
export const deadLetterCodec = codec('ecg.dead-letter', DeadLetterMessageSchema);
