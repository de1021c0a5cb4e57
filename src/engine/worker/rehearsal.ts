/**
 * A spare Worker's rehearsal: once its engine is up, it writes a tiny random-weight model, loads
 * it, answers a two-token chat with it through the very code a real model runs (the file check,
 * node-llama-cpp's load and context, the chat template, the token loop), and disposes of it.
 *
 * Why: a fresh Worker compiles its JavaScript lazily, function by function, on first call, and
 * meets llama.cpp's load and decode paths for the first time. Without the rehearsal the first
 * load and first prompt of the model that takes the spare paid that on the critical path of a
 * cold start: on 2 vCPUs about 34 ms of parsing and compiling on the Worker's thread; measured
 * end to end, the rehearsal takes 25-30 ms off a cold first token. It pays that while nobody
 * waits (0.10-0.16 s, once per spare). It is called off as soon as a real model is named, and
 * whatever it does fail, the spare is still a spare: a failed rehearsal is only logged.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateModel } from '../../gguf/generate.js';
import type { EngineStart } from '../protocol.js';
import type { ChatRequest } from '../types.js';
import { createGenerationEnv, generate } from './generate.js';
import { disposeModel, loadModel, type LogSink, type StartedEngine } from './load.js';

/** The rehearsal's chat: short, through the chat template, greedy, two tokens. */
const REHEARSAL_CHAT: ChatRequest = { kind: 'chat', messages: [{ role: 'user', content: 'Hi' }], sampling: { temperature: 0, maxTokens: 2, ignoreEos: true } };

/** Resolves once the rehearsal is over: done (logged at debug with its tokens and time), failed (logged) or called off. */
export async function rehearse(engine: StartedEngine, start: EngineStart, log: LogSink, signal: AbortSignal): Promise<void> {
  // A Worker started for a named model is told its model at once.
  if (signal.aborted) return;
  const began = performance.now();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'model-runner-rehearsal-'));
  try {
    const { path: modelPath } = await generateModel({ path: path.join(dir, 'rehearsal.gguf'), preset: 'tiny', type: 'q8_0', seed: 1 });
    if (signal.aborted) return;
    // The wrapper named as a reload names it (the tiny model's template is ChatML): a full search
    // renders the template against every known wrapper, ~0.6 s of CPU that only a first load pays.
    const memo = { chatWrapperType: 'chatML' };
    const init = { modelPath, mode: 'completion', contextSize: 256, parallel: 1, threads: start.threads, gpu: start.gpu, unifiedKv: start.unifiedKv, memo } as const;
    // Its own log lines ("model loaded" of a model nobody asked for) would only confuse.
    const loaded = await loadModel(init, () => {}, signal, engine, { keepEngine: true });
    let tokens = 0;
    try {
      await generate(createGenerationEnv(loaded), REHEARSAL_CHAT, signal, (event) => {
        if (event.type === 'done') tokens = event.usage.completionTokens;
      });
    } finally {
      await disposeModel(loaded, { keepEngine: true });
    }
    log('debug', `engine rehearsed ahead of need: a tiny model loaded and answered ${tokens} tokens in ${Math.round(performance.now() - began)} ms`);
  } catch (err) {
    if (!signal.aborted) log('debug', `the spare engine's rehearsal failed (the spare stays usable): ${(err as Error).message}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
