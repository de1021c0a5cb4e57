/**
 * The admission check's child process: everything a first in-process load would do to a model
 * file, done here first, where an abort, a C++ exception, a V8 out-of-memory or a hang costs only
 * this process. It loads the model with the engine's own load code (validation, getLlama,
 * loadModel, a small context, the chat wrapper under its template budget), then runs the real
 * generation path on short requests: a chat, a chat offering a tool, a raw completion, each
 * decoding two tokens; or one embedding for an embedding model. The verdict goes to the parent
 * over IPC; the parent reads a crash from the exit signal.
 *
 * The engine starts first, before any model is named, so that the parent can keep one child
 * warm for the next check (engine/admission-child-process.ts); the model comes as one 'check'
 * message. Started only by that module, with the engine request as JSON in argv[2].
 */
import { toAppError } from '../../errors.js';
import type { AdmissionCheckRequest, AdmissionChildReply, AdmissionEngineRequest } from '../admission-protocol.js';
import type { GenerateRequest } from '../types.js';
import { embed } from './embeddings.js';
import { createGenerationEnv, generate } from './generate.js';
import { disposeModel, loadModel, startEngine, type LoadedModel, type LogSink, type StartedEngine } from './load.js';
import { rank } from './ranking.js';
import { maybeHangAdmission } from './test-faults.js';

/** Enough for the probe requests on any model; small so the check allocates little. */
const PROBE_CONTEXT_SIZE = 512;

const probeSampling = { maxTokens: 2, temperature: 0, ignoreEos: true };
const PROBES: GenerateRequest[] = [
  {
    kind: 'chat',
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'Hello! Say one word.' },
      { role: 'assistant', content: 'Hi.' },
      { role: 'user', content: 'Again, in "quotes" & <tags>: ü, 日本, 🙂' },
    ],
    sampling: probeSampling,
  },
  {
    kind: 'chat',
    messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
    tools: [{ name: 'get_weather', description: 'Current weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }],
    toolChoice: 'auto',
    sampling: probeSampling,
  },
  { kind: 'completion', prompt: 'The quick brown fox', sampling: probeSampling },
];

async function probe(loaded: LoadedModel, signal: AbortSignal): Promise<void> {
  if (loaded.init.mode === 'embedding') {
    await embed(loaded, { inputs: ['The quick brown fox'] }, signal);
    return;
  }
  if (loaded.init.mode === 'reranking') {
    await rank(loaded, { query: 'The quick brown fox', documents: ['jumps over the lazy dog'] }, signal);
    return;
  }
  const env = createGenerationEnv(loaded);
  for (const request of PROBES) {
    try {
      await generate(env, request, signal, () => {});
    } catch (err) {
      // The path ran up to tokenizing; a model with a tiny context or vocabulary may not fit the probe.
      if (toAppError(err).code !== 'context_exceeded') throw err;
    }
  }
}

function reply(message: AdmissionChildReply): Promise<void> {
  return new Promise((resolve) => process.send!(message, undefined, undefined, () => resolve()));
}

async function main(): Promise<void> {
  const engineRequest = JSON.parse(process.argv[2] ?? '{}') as AdmissionEngineRequest;
  // A parent that goes away (ended, killed) leaves nothing for this process to do.
  process.once('disconnect', () => process.exit(0));
  const signal = new AbortController().signal;
  const log: LogSink = (level, message) => {
    if (level === 'error') process.stderr.write(`${message}\n`);
  };
  let engine: StartedEngine;
  try {
    engine = await startEngine({ gpu: engineRequest.gpu, threads: engineRequest.threads }, log);
  } catch (err) {
    await reply({ type: 'engine-failed', error: toAppError(err).toJSON() });
    return process.disconnect();
  }
  await reply({ type: 'engine-ready' });
  const request = await new Promise<AdmissionCheckRequest>((resolve) => process.once('message', resolve));
  const started = performance.now();
  let loaded: LoadedModel | undefined;
  try {
    const init = { modelPath: request.modelPath, mode: request.mode, contextSize: PROBE_CONTEXT_SIZE, parallel: 1, threads: engineRequest.threads, gpu: engineRequest.gpu };
    loaded = await loadModel(init, log, signal, engine);
    maybeHangAdmission(loaded.model.fileInfo.metadata?.general?.name);
    await probe(loaded, signal);
    await reply({ type: 'verdict', ok: true, chatWrapper: loaded.info.chatWrapper, chatWrapperType: loaded.info.memo?.chatWrapperType, millis: Math.round(performance.now() - started) });
  } catch (err) {
    // loadModel names llama.cpp's reason for refusing a file (see loadFailureReason).
    const error = toAppError(err).toJSON();
    await reply({ type: 'verdict', ok: false, error });
  } finally {
    if (loaded) await disposeModel(loaded);
  }
  process.disconnect();
}

if (!process.send) throw new Error('src/engine/worker/admission-child.ts runs only as a child process started with an IPC channel');
void main();
