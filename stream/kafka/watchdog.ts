import { ConfigError } from '../contracts/errors.js';

/** How often the cluster is probed, ms. */
export const PROBE_EVERY_MS = 5_000;
/**
 * How long the cluster may fail every probe before it counts as lost, ms: short of the 30 s
 * within which every command says so, long enough for a broker's restart or a leader election.
 */
export const LOST_AFTER_MS = 20_000;

/**
 * KAFKA_LOST_AFTER_MS, where an operator sets how long a cluster may answer no probe before a
 * command gives up (1 to 30 s: beyond 30 s a lost cluster would be stated late); else LOST_AFTER_MS.
 */
export function lostAfterMsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.KAFKA_LOST_AFTER_MS;
  if (value === undefined || value === '') return LOST_AFTER_MS;
  const ms = Number(value);
  if (!(Number.isInteger(ms) && ms >= 1000 && ms <= 30_000))
    throw new ConfigError(`KAFKA_LOST_AFTER_MS must be a whole number of ms from 1000 to 30000, got "${value}"`);
  return ms;
}

export interface ClusterWatch {
  stop(): void;
}

/** One request to the cluster that fails when it does not answer; `close` releases its connection. */
export interface ClusterProbe {
  probe(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Probes a cluster every `everyMs` (each probe given that long to answer) and says, once, when it
 * has failed every probe for `lostAfterMs` (`onLost`, with the last failure), and again when a
 * probe succeeds after that (`onBack`). Clients' own retries can take minutes to give up; a
 * command states a lost cluster within 30 s from this, whatever its clients are doing.
 */
export function watchCluster(options: {
  probe: ClusterProbe;
  onLost: (error: unknown) => void;
  onBack?: () => void;
  everyMs?: number;
  lostAfterMs?: number;
}): ClusterWatch {
  const everyMs = options.everyMs ?? PROBE_EVERY_MS;
  const lostAfterMs = options.lostAfterMs ?? LOST_AFTER_MS;
  let failingSince: number | undefined;
  let lost = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const probeOnce = async (): Promise<void> => {
    let answer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        options.probe.probe(),
        new Promise<never>((_, reject) => {
          answer = setTimeout(() => reject(new Error(`no answer within ${everyMs / 1000} s`)), everyMs);
        }),
      ]);
      failingSince = undefined;
      if (lost && !stopped) {
        lost = false;
        options.onBack?.();
      }
    } catch (error) {
      failingSince ??= Date.now();
      if (!lost && !stopped && Date.now() - failingSince >= lostAfterMs) {
        lost = true;
        options.onLost(error);
      }
    } finally {
      clearTimeout(answer);
    }
  };
  const loop = (): void => {
    if (stopped) return;
    void probeOnce().finally(() => {
      if (!stopped) timer = setTimeout(loop, everyMs).unref();
    });
  };
  loop();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      void options.probe.close().catch(() => undefined); // closing: nothing left to report
    },
  };
}
