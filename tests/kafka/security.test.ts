import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../stream/contracts/errors.js';
import { kafkaSecurityFromEnv } from '../../stream/kafka/security.js';
import { watchCluster } from '../../stream/kafka/watchdog.js';

describe('TLS and SASL from the environment', () => {
  it('is plaintext without settings, and says what it is without secrets', () => {
    expect(kafkaSecurityFromEnv({})).toEqual({ description: 'plaintext' });
    const sasl = kafkaSecurityFromEnv({
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'ecg-pipeline',
      KAFKA_SASL_PASSWORD: 's3cret',
    });
    expect(sasl).toEqual({
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'ecg-pipeline', password: 's3cret' },
      description: 'TLS, SASL scram-sha-512 as ecg-pipeline',
    });
    expect(sasl.description).not.toContain('s3cret');
  });

  it('reads the CA, a client certificate and key, and a password from files; a certificate means TLS', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tls-'));
    for (const [name, text] of [
      ['ca.pem', 'CA'],
      ['cert.pem', 'CERT'],
      ['key.pem', 'KEY'],
      ['password', 'pw\n'],
    ])
      await writeFile(join(dir, name!), text!);
    const security = kafkaSecurityFromEnv({
      KAFKA_SSL_CA_FILE: join(dir, 'ca.pem'),
      KAFKA_SSL_CERT_FILE: join(dir, 'cert.pem'),
      KAFKA_SSL_KEY_FILE: join(dir, 'key.pem'),
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'gateway',
      KAFKA_SASL_PASSWORD_FILE: join(dir, 'password'),
    });
    expect(security.ssl).toEqual({ ca: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY') });
    expect(security.sasl).toEqual({ mechanism: 'plain', username: 'gateway', password: 'pw' });
  });

  it('refuses a wrong setting with one line that names the variable', () => {
    const refused: [NodeJS.ProcessEnv, string][] = [
      [
        { KAFKA_SASL_MECHANISM: 'gssapi' },
        'KAFKA_SASL_MECHANISM must be one of plain, scram-sha-256, scram-sha-512, got "gssapi"',
      ],
      [
        { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' },
        'KAFKA_SASL_MECHANISM=plain needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
      ],
      [{ KAFKA_SSL: 'maybe' }, 'KAFKA_SSL must be true or false, got "maybe"'],
      [{ KAFKA_SSL_CA_FILE: '/nonexistent/ca.pem' }, 'KAFKA_SSL_CA_FILE: cannot read /nonexistent/ca.pem'],
      [{ KAFKA_SSL_CERT_FILE: import.meta.filename }, 'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together'],
    ];
    for (const [env, message] of refused) {
      expect(() => kafkaSecurityFromEnv(env)).toThrow(ConfigError);
      expect(() => kafkaSecurityFromEnv(env)).toThrow(message);
    }
  });
});

describe('watchCluster', () => {
  it('says once that a cluster failing every probe is lost, and when it answers again', async () => {
    let up = false;
    const events: string[] = [];
    const watch = watchCluster({
      probe: {
        probe: async () => {
          if (!up) throw new Error('ECONNREFUSED');
        },
        close: async () => undefined,
      },
      everyMs: 10,
      lostAfterMs: 50,
      onLost: (error) => events.push(`lost: ${(error as Error).message}`),
      onBack: () => events.push('back'),
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(events).toEqual(['lost: ECONNREFUSED']);
    up = true;
    await new Promise((resolve) => setTimeout(resolve, 50));
    watch.stop();
    expect(events).toEqual(['lost: ECONNREFUSED', 'back']);
  });

  it('counts a probe that never answers as a failure', async () => {
    const lost: unknown[] = [];
    const watch = watchCluster({
      probe: { probe: () => new Promise(() => undefined), close: async () => undefined },
      everyMs: 10,
      lostAfterMs: 30,
      onLost: (error) => lost.push(error),
    });
    await new Promise((resolve) => setTimeout(resolve, 120));
    watch.stop();
    expect(lost.map((e) => (e as Error).message)).toEqual(['no answer within 0.01 s']);
  });
});

describe('KAFKA_LOST_AFTER_MS', () => {
  it('is 20 s unless an operator sets 1 to 30 s', async () => {
    const { lostAfterMsFromEnv } = await import('../../stream/kafka/watchdog.js');
    expect(lostAfterMsFromEnv({})).toBe(20_000);
    expect(lostAfterMsFromEnv({ KAFKA_LOST_AFTER_MS: '5000' })).toBe(5000);
    for (const bad of ['60000', '10', 'soon'])
      expect(() => lostAfterMsFromEnv({ KAFKA_LOST_AFTER_MS: bad })).toThrow(ConfigError);
  });
});
