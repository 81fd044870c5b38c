import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from '../contracts/errors.js';

/** SASL mechanisms a real cluster may ask for (kafkajs's names). */
export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** SASL credentials, one shape per mechanism (as kafkajs takes them). */
export type SaslSettings = {
  [M in SaslMechanism]: { readonly mechanism: M; readonly username: string; readonly password: string };
}[SaslMechanism];

/** How a client authenticates to a cluster and protects the connection. */
export interface KafkaSecurity {
  /** TLS: true for the system's trust store, or options with a CA, a client certificate and key. */
  readonly ssl?: true | ConnectionOptions;
  readonly sasl?: SaslSettings;
  /** What it is, without secrets, for the log. */
  readonly description: string;
}

/** A file an environment variable names, read now: a wrong path ends the command before it connects. */
function fileOf(env: NodeJS.ProcessEnv, name: string): Buffer | undefined {
  const path = env[name];
  if (path === undefined || path === '') return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`${name}: cannot read ${path} (${(error as Error).message})`, { cause: error });
  }
}

const TRUE = ['1', 'true', 'yes'];
const FALSE = ['0', 'false', 'no'];

function flag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === '') return undefined;
  if (TRUE.includes(value)) return true;
  if (FALSE.includes(value)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

/**
 * TLS and SASL for a real cluster, from the environment:
 *   KAFKA_SSL=true, KAFKA_SSL_CA_FILE, KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE, KAFKA_SSL_KEY_PASSWORD,
 *   KAFKA_SSL_REJECT_UNAUTHORIZED=false (tests only);
 *   KAFKA_SASL_MECHANISM=plain|scram-sha-256|scram-sha-512, KAFKA_SASL_USERNAME,
 *   KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE.
 * A certificate file implies TLS. A wrong value is a ConfigError that names the variable.
 */
export function kafkaSecurityFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaSecurity {
  const ca = fileOf(env, 'KAFKA_SSL_CA_FILE');
  const cert = fileOf(env, 'KAFKA_SSL_CERT_FILE');
  const key = fileOf(env, 'KAFKA_SSL_KEY_FILE');
  if ((cert === undefined) !== (key === undefined))
    throw new ConfigError('KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together (a client certificate and its key)');
  const rejectUnauthorized = flag(env, 'KAFKA_SSL_REJECT_UNAUTHORIZED') ?? true;
  const tls = flag(env, 'KAFKA_SSL') ?? (ca !== undefined || cert !== undefined);
  const options: ConnectionOptions = {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert, key }),
    ...(env.KAFKA_SSL_KEY_PASSWORD ? { passphrase: env.KAFKA_SSL_KEY_PASSWORD } : {}),
    ...(rejectUnauthorized ? {} : { rejectUnauthorized: false }),
  };
  const ssl = !tls ? undefined : Object.keys(options).length === 0 ? (true as const) : options;

  const mechanismName = env.KAFKA_SASL_MECHANISM?.trim().toLowerCase();
  let sasl: KafkaSecurity['sasl'];
  if (mechanismName !== undefined && mechanismName !== '') {
    const mechanism = SASL_MECHANISMS.find((m) => m === mechanismName);
    if (mechanism === undefined)
      throw new ConfigError(
        `KAFKA_SASL_MECHANISM must be one of ${SASL_MECHANISMS.join(', ')}, got "${env.KAFKA_SASL_MECHANISM}"`,
      );
    const username = env.KAFKA_SASL_USERNAME ?? '';
    const password = fileOf(env, 'KAFKA_SASL_PASSWORD_FILE')?.toString('utf8').trim() ?? env.KAFKA_SASL_PASSWORD ?? '';
    if (username === '' || password === '')
      throw new ConfigError(
        `KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)`,
      );
    sasl = { mechanism, username, password } as SaslSettings;
  }
  const parts = [
    ssl === undefined ? 'plaintext' : `TLS${rejectUnauthorized ? '' : ' (certificates not checked)'}`,
    ...(sasl === undefined ? [] : [`SASL ${sasl.mechanism} as ${sasl.username}`]),
  ];
  return {
    ...(ssl === undefined ? {} : { ssl }),
    ...(sasl === undefined ? {} : { sasl }),
    description: parts.join(', '),
  };
}
