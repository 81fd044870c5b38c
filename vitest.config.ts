import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // the database-wide checks read 48 records; give them room on a 2-core CI machine
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' },
  },
});
