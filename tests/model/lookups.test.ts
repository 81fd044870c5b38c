import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../stream/contracts/errors.js';
import { architecture, isArchitectureName } from '../../stream/model/architectures.js';
import { backendFromEnv } from '../../stream/model/backend.js';

describe('names looked up in a table', () => {
  it('an architecture is one of the table own names, and an unknown one lists the valid ones', () => {
    expect(isArchitectureName('rr-resnet-small')).toBe(true);
    for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
      expect(isArchitectureName(name)).toBe(false);
      expect(() => architecture(name)).toThrow(ConfigError);
    }
    expect(() => architecture('resnet')).toThrow(/choose one of: seed-resnet, rr-resnet-small/);
  });

  it('TFJS_BACKEND is one of the backends, else one line that lists them', () => {
    expect(backendFromEnv(undefined)).toBeUndefined();
    expect(backendFromEnv('')).toBeUndefined();
    expect(backendFromEnv('wasm')).toBe('wasm');
    expect(() => backendFromEnv('webgl')).toThrow('TFJS_BACKEND must be one of tensorflow, wasm, cpu; got "webgl"');
    expect(() => backendFromEnv('constructor')).toThrow(ConfigError);
  });
});
