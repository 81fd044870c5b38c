import { describe, expect, it } from 'vitest';
import { workerFailure } from '../../stream/pipeline/worker.js';

describe('workerFailure', () => {
  it("rejects with a failed worker's error, also when the worker failed before anything raced it", async () => {
    const worker = Promise.reject(new Error('kafka: lost broker'));
    const failed = workerFailure(worker);
    // a rejection not yet raced must not count as unhandled (vitest fails the run on one)
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(Promise.race([new Promise(() => undefined), failed])).rejects.toThrow('kafka: lost broker');
    await expect(worker).rejects.toThrow('kafka: lost broker');
  });

  it('never settles for a worker that stops normally, so the replay it is raced with decides', async () => {
    const failed = workerFailure(Promise.resolve());
    const replay = new Promise((resolve) => setTimeout(() => resolve('replay done'), 20));
    await expect(Promise.race([failed, replay])).resolves.toBe('replay done');
  });
});
