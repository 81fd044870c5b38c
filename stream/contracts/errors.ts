/**
 * Every error the monitor raises says whether retrying can help. Restart logic reads only
 * `retriable` (kafkajs `src/errors.js` habit); a corrupt file never becomes retriable.
 */
export class MonitorError extends Error {
  readonly retriable: boolean;

  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
  }
}

/** A configuration value or command-line flag that cannot be used. */
export class ConfigError extends MonitorError {}
