/**
 * Every decode of a context runs on one thread of its own (native/llama-context-params/decode-thread.cc),
 * not on whichever of libuv's pool threads node-llama-cpp's binding calls it from; llama.cpp's
 * errors and the context's end pass through it. The engine runs in a child process (isolation
 * 'process'): the interposer acts process-wide, so the child's threads are this model's alone.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { WorkerModelHandle } from '../../src/engine/model-handle.js';
import { collect, doneOf, fixedLengthRequest, interposerSkip, loadHandle, tinyModel, type TinyModel } from './support.js';

interface ThreadTimes {
  name: string;
  /** User and system CPU time, in clock ticks. */
  ticks: number;
}

/** Every thread of a process by thread ID, with its name and the CPU time it has used. */
function threadsOf(pid: number): Map<number, ThreadTimes> {
  const threads = new Map<number, ThreadTimes>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The name is in parentheses and may hold spaces; the fields after it are numbered from 3.
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(Number(tid), { name, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return threads;
}

describe('a thread of its own for the decodes of each context', { skip: interposerSkip }, () => {
  let model: TinyModel;
  let handle: WorkerModelHandle;

  before(async () => {
    model = await tinyModel();
    handle = await loadHandle(model.path, { isolation: 'process', threads: 2, maxThreads: 2 });
  });
  after(async () => {
    await handle?.dispose();
    await model?.cleanup();
  });

  it('the loaded context has one decode thread, named llama-decode', () => {
    assert.equal(handle.info?.decodeThreads, 1);
    const named = [...threadsOf(handle.pid!).values()].filter((t) => t.name === 'llama-decode');
    assert.equal(named.length, 1);
  });

  it('the decode thread computes the tokens: its CPU time grows with them', async () => {
    doneOf(await collect(handle, fixedLengthRequest(8)));
    const before = threadsOf(handle.pid!);
    const tokens = 512;
    const done = doneOf(await collect(handle, fixedLengthRequest(tokens)));
    const afterwards = threadsOf(handle.pid!);
    assert.equal(done.usage.completionTokens, tokens);
    assert.equal(done.timings.threads, 2);
    const decodeThread = [...afterwards].find(([, t]) => t.name === 'llama-decode');
    assert.ok(decodeThread, 'the decode thread is still there');
    const [tid, times] = decodeThread;
    const grown = times.ticks - (before.get(tid)?.ticks ?? 0);
    // Thread 0 of every graph is the decode thread (ggml's pool adds the second): with the
    // decodes run on libuv's pool threads instead, it would not have run at all.
    assert.ok(grown > 0, `the decode thread used ${grown} clock ticks over ${tokens} tokens`);
  });

  it('a model whose share is one thread decodes on the calling thread: the decode thread stays idle', async () => {
    handle.setThreads(1);
    try {
      doneOf(await collect(handle, fixedLengthRequest(8)));
      const before = threadsOf(handle.pid!);
      const done = doneOf(await collect(handle, fixedLengthRequest(256)));
      assert.equal(done.timings.threads, 1);
      const [tid, times] = [...threadsOf(handle.pid!)].find(([, t]) => t.name === 'llama-decode')!;
      assert.equal(times.ticks, before.get(tid)?.ticks, 'no CPU time on the decode thread while the model had one thread');
    } finally {
      handle.setThreads(2);
    }
  });
});

describe('a context that ends takes its decode thread with it', { skip: interposerSkip }, () => {
  it('unloading the model leaves no decode thread behind, and the next load gets a new one', async () => {
    const model = await tinyModel();
    try {
      const handle = await loadHandle(model.path, { isolation: 'thread', threads: 1, maxThreads: 1 });
      const ours = () => [...threadsOf(process.pid).values()].filter((t) => t.name === 'llama-decode').length;
      try {
        assert.equal(ours(), 1);
        doneOf(await collect(handle, fixedLengthRequest(4)));
      } finally {
        await handle.dispose();
      }
      assert.equal(ours(), 0, 'the decode thread was joined with its context');
      const again = await loadHandle(model.path, { isolation: 'thread', threads: 1, maxThreads: 1 });
      try {
        assert.equal(ours(), 1);
        assert.equal(doneOf(await collect(again, fixedLengthRequest(4))).usage.completionTokens, 4);
      } finally {
        await again.dispose();
      }
    } finally {
      await model.cleanup();
    }
  });
});
