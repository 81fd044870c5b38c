/** Topic names of DESIGN.md; every message is keyed by bed id so one bed stays ordered on one partition. */
export const TOPICS = {
  samples: 'ecg.samples',
  beats: 'ecg.beats',
  alerts: 'ecg.alerts',
  reference: 'ecg.reference',
  /** Acknowledgements of alarms, from the central station or an integrated system. */
  acks: 'ecg.acks',
  /** Messages a consumer could not use, with the reason and where they came from. */
  deadLetter: 'ecg.dead-letter',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/** Default partition counts: samples spread over pipeline workers, the rest follow. */
export const DEFAULT_PARTITIONS: Readonly<Record<TopicName, number>> = {
  'ecg.samples': 8,
  'ecg.beats': 8,
  'ecg.alerts': 4,
  'ecg.reference': 4,
  'ecg.acks': 4,
  'ecg.dead-letter': 1,
};
