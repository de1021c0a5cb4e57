/**
 * Child process of evaluate.ts: loads one model with the local build or the prebuilt binaries and
 * either test-runs it (probe: a prompt and a few greedy tokens) or times it (bench: one prompt of
 * PROMPT_TOKENS in one batch, then DECODE_TOKENS decoded one at a time), with one thread, as a
 * model Worker runs by default. Prints one JSON line. A separate process per run, because a
 * miscompiled kernel dies with SIGILL and must not take the caller with it.
 *
 * Usage: node --import tsx scripts/native-engine/measure.ts probe|bench local|prebuilt MODEL [CMAKE_OPTIONS_JSON]
 */
import { performance } from 'node:perf_hooks';
import { getLlama, LlamaLogLevel, TokenBias, type LlamaModel, type Token } from '#node-llama-cpp';
import { loadedCpuVariant } from '../../src/engine/worker/binary-info.js';

const PROMPT_TOKENS = 256;
const DECODE_TOKENS = 64;
const PROBE_TOKENS = 8;

const [mode, binaries, modelPath, optionsJson] = process.argv.slice(2);
if ((mode !== 'probe' && mode !== 'bench') || (binaries !== 'local' && binaries !== 'prebuilt') || !modelPath) {
  console.error('usage: measure.ts probe|bench local|prebuilt MODEL [CMAKE_OPTIONS_JSON]');
  process.exit(2);
}
const cmakeOptions = binaries === 'local' ? (JSON.parse(optionsJson ?? '{}') as Record<string, string>) : undefined;

const llama = await getLlama({
  gpu: false,
  maxThreads: 1,
  build: 'never',
  logLevel: LlamaLogLevel.error,
  progressLogs: false,
  ...(cmakeOptions ? { cmakeOptions } : {}),
});
const model = await llama.loadModel({ modelPath });
const context = await model.createContext({ contextSize: 512, batchSize: 512, threads: 1 });
const sequence = context.getSequence();
const build = llama.buildType;
// Ban end-of-generation tokens so that every run decodes the full count.
const tokenBias = new TokenBias(model.tokenizer);
for (let id = 0; id < 16; id++) if (model.isEogToken(id as Token)) tokenBias.set(id as Token, 'never');

/** Deterministic prompt ids, clear of the control tokens at the start of the vocabulary. */
function promptTokens(m: LlamaModel, count: number): Token[] {
  const vocabulary = m.fileInfo.metadata.tokenizer.ggml.tokens.length;
  return Array.from({ length: count }, (_, i) => (16 + ((i * 7919) % (vocabulary - 16))) as Token);
}

/** Greedy tokens after `prompt`, with the time of each. */
async function decode(prompt: Token[], count: number): Promise<{ tokens: number[]; times: number[] }> {
  const tokens: number[] = [];
  const times: number[] = [];
  for await (const token of sequence.evaluate(prompt, { temperature: 0, tokenBias })) {
    tokens.push(token);
    times.push(performance.now());
    if (tokens.length >= count) break;
  }
  return { tokens, times };
}

let result: Record<string, unknown>;
if (mode === 'probe') {
  const { tokens } = await decode(promptTokens(model, 48), PROBE_TOKENS);
  result = { build, tokens };
} else {
  // Warm-up: first-use allocations and page faults stay out of the timed runs.
  await decode(promptTokens(model, 16), 2);
  await sequence.clearHistory();
  const prompt = promptTokens(model, PROMPT_TOKENS);
  const start = performance.now();
  await sequence.evaluateWithoutGeneratingNewTokens(prompt);
  const promptMs = performance.now() - start;
  // Decode continues after the prompt, as a reply does; the first token's time is the start line.
  const { times } = await decode([prompt[0]!], DECODE_TOKENS);
  const decodeMs = times[times.length - 1]! - times[0]!;
  result = { build, prompt: (PROMPT_TOKENS * 1000) / promptMs, decode: ((times.length - 1) * 1000) / decodeMs };
}
result.cpuVariant = loadedCpuVariant(build);
await context.dispose();
await model.dispose();
await llama.dispose();
console.log(JSON.stringify(result));
