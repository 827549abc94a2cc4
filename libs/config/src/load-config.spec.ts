import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadConfig, portSchema, urlSchema } from './load-config';

const schema = z.object({
  DATABASE_URL: urlSchema('postgres:', 'postgresql:'),
  PORT: portSchema.default(8080),
});

describe('loadConfig', () => {
  it('parses and applies defaults', () => {
    expect(loadConfig(schema, { DATABASE_URL: 'postgres://u@127.0.0.1:5432/db' })).toEqual({
      DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
      PORT: 8080,
    });
  });

  it('lists every invalid key at once, naming each', () => {
    try {
      loadConfig(schema, { PORT: '99999' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const keys = (error as ConfigError).problems.map((p) => p.key).sort();
      expect(keys).toEqual(['DATABASE_URL', 'PORT']);
      expect((error as ConfigError).problems.find((p) => p.key === 'DATABASE_URL')?.message).toBe('is required');
    }
  });

  it('rejects a URL with the wrong scheme', () => {
    expect(() => loadConfig(schema, { DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL: must be a URL with scheme postgres/);
  });
});
