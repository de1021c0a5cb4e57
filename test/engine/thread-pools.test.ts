/**
 * One persistent ggml thread pool per context (native/llama-context-params/thread-pools.cc), and a
 * model's share of the cores changed while it stays loaded. The engine runs in a child process
 * (isolation 'process'): the interposer acts process-wide, so the child's pools are this model's alone.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { WorkerModelHandle } from '../../src/engine/model-handle.js';
import { collect, doneOf, fixedLengthRequest, interposerSkip, loadHandle, tinyModel, type TinyModel } from './support.js';

/** The process ID the kernel handed out last in this namespace: every new thread takes the next one. */
function lastPid(): number {
  return Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
}

/** Process IDs handed out between two readings of lastPid(), across a wrap at pid_max. */
function pidsBetween(before: number, after: number): number {
  const max = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  return (after - before + max) % max;
}

describe('thread pools and a changing share of the cores', { skip: interposerSkip }, () => {
  let model: TinyModel;
  let handle: WorkerModelHandle;

  before(async () => {
    model = await tinyModel();
    handle = await loadHandle(model.path, { isolation: 'process', threads: 1, maxThreads: 2 });
  });
  after(async () => {
    await handle?.dispose();
    await model?.cleanup();
  });

  it('the context is created with a thread pool of its own, for the most threads the model may be given', () => {
    assert.equal(handle.info?.threadPools, 1);
    assert.equal(handle.info?.maxThreads, 2);
    assert.equal(handle.info?.threads, 1);
  });

  it('a model uses the threads it is told from its next batch on, never more than its maximum', async () => {
    const threadsOfNextGeneration = async () => doneOf(await collect(handle, fixedLengthRequest(4))).timings.threads;
    assert.equal(await threadsOfNextGeneration(), 1);
    handle.setThreads(2);
    assert.equal(await threadsOfNextGeneration(), 2);
    handle.setThreads(8);
    assert.equal(await threadsOfNextGeneration(), 2, 'capped at the pool it was created with');
    handle.setThreads(1);
    assert.equal(await threadsOfNextGeneration(), 1);
  });

  it('decoding on two threads starts no thread per token: the same pool computes every token', async () => {
    handle.setThreads(2);
    await collect(handle, fixedLengthRequest(2));
    const tokens = 256;
    const before = lastPid();
    const done = doneOf(await collect(handle, fixedLengthRequest(tokens)));
    const started = pidsBetween(before, lastPid());
    assert.equal(done.timings.threads, 2);
    assert.equal(done.usage.completionTokens, tokens);
    // Without the pool llama.cpp starts (and joins) a helper thread for every token's graph: 256 or more.
    assert.ok(started < tokens / 4, `${started} process IDs were handed out on this machine while ${tokens} tokens were decoded on two threads`);
  });
});
