/**
 * Hostile model files for the fault-containment tests: a valid tiny llama model with one to three
 * mutations that keep the GGUF well-formed but wrong in meaning (bogus enum strings, impossible
 * numbers, broken token lists), damaged tensors, or chat templates that loop, recurse, blow up or
 * raise. Deterministic: the same seed and index give the same file.
 */
import { GgufValueType, gguf, kv, planModel, writeGgufFile, type GgufTensorSource, type GgufWritableKv, type GgufWritableValue } from '../../src/gguf/index.js';
import { Sfc32 } from '../../src/gguf/prng.js';

export interface HostileModel {
  /** What was done to the file, for failure messages. */
  description: string;
  path: string;
}

type Plan = { metadata: GgufWritableKv[]; tensors: GgufTensorSource[] };
interface Mutation {
  name: string;
  apply(plan: Plan, rng: Sfc32): void;
}

const VOCAB = 320;
const pick = <T>(rng: Sfc32, items: readonly T[]): T => items[rng.nextUint32() % items.length]!;

function set(plan: Plan, key: string, value: GgufWritableValue): void {
  const at = plan.metadata.findIndex((e) => e.key === key);
  if (at >= 0) plan.metadata[at] = kv(key, value);
  else plan.metadata.push(kv(key, value));
}

function remove(plan: Plan, key: string): void {
  plan.metadata = plan.metadata.filter((e) => e.key !== key);
}

function tokens(plan: Plan): string[] {
  const entry = plan.metadata.find((e) => e.key === 'tokenizer.ggml.tokens')!;
  return (entry.value as unknown as { value: string[] }).value.slice();
}

const strings = (values: string[]) => gguf.array(GgufValueType.STRING, values);

/** Meaning-level damage to metadata: every value is well-typed GGUF, but not one llama.cpp expects. */
const METADATA: Mutation[] = [
  ...['bogus', '', 'linear\u0000', 'yarn', 'longrope'].map((v) => ({ name: `rope.scaling.type=${JSON.stringify(v)}`, apply: (p: Plan) => set(p, 'llama.rope.scaling.type', gguf.str(v)) })),
  ...[0, -1, 1e30, Number.NaN].map((v) => ({ name: `rope.scaling.factor=${v}`, apply: (p: Plan) => set(p, 'llama.rope.scaling.factor', gguf.f32(v)) })),
  ...['bogus', 'llama', 'bert', 't5', 'rwkv', 'none', 'ugm', 'plamo2', ''].map((v) => ({ name: `tokenizer.ggml.model=${JSON.stringify(v)}`, apply: (p: Plan) => set(p, 'tokenizer.ggml.model', gguf.str(v)) })),
  ...['bogus', 'llama3', 'qwen2', ''].map((v) => ({ name: `tokenizer.ggml.pre=${JSON.stringify(v)}`, apply: (p: Plan) => set(p, 'tokenizer.ggml.pre', gguf.str(v)) })),
  ...[-1e-5, 0, Number.NaN, Number.POSITIVE_INFINITY].map((v) => ({ name: `rms epsilon=${v}`, apply: (p: Plan) => set(p, 'llama.attention.layer_norm_rms_epsilon', gguf.f32(v)) })),
  ...[0, -10000, Number.NaN].map((v) => ({ name: `rope.freq_base=${v}`, apply: (p: Plan) => set(p, 'llama.rope.freq_base', gguf.f32(v)) })),
  ...[1, 8, 15].map((v) => ({ name: `rope.dimension_count=${v}`, apply: (p: Plan) => set(p, 'llama.rope.dimension_count', gguf.u32(v)) })),
  ...[1, 2, 0x7fffffff].map((v) => ({ name: `context_length=${v}`, apply: (p: Plan) => set(p, 'llama.context_length', gguf.u32(v)) })),
  ...[
    ['expert_count', 4],
    ['expert_used_count', 2],
    ['expert_group_count', 1],
    ['expert_group_used_count', 1],
    ['expert_shared_count', 1],
  ].map(([k, v]) => ({ name: `${k}=${v} on a dense model`, apply: (p: Plan) => set(p, `llama.${k}`, gguf.u32(v as number)) })),
  { name: 'expert_used_count > expert_count', apply: (p) => (set(p, 'llama.expert_count', gguf.u32(2)), set(p, 'llama.expert_used_count', gguf.u32(8))) },
  ...[1, 7, 4096].map((v) => ({ name: `attention.key_length=${v}`, apply: (p: Plan) => set(p, 'llama.attention.key_length', gguf.u32(v)) })),
  ...[1, 4096].map((v) => ({ name: `attention.value_length=${v}`, apply: (p: Plan) => set(p, 'llama.attention.value_length', gguf.u32(v)) })),
  { name: 'head_count_kv > head_count', apply: (p) => set(p, 'llama.attention.head_count_kv', gguf.u32(8)) },
  { name: 'head_count_kv=3 (does not divide)', apply: (p) => set(p, 'llama.attention.head_count_kv', gguf.u32(3)) },
  { name: 'block_count=3 with two layers of tensors', apply: (p) => set(p, 'llama.block_count', gguf.u32(3)) },
  { name: 'block_count=1 with two layers of tensors', apply: (p) => set(p, 'llama.block_count', gguf.u32(1)) },
  ...[0, 1, 100000].map((v) => ({ name: `vocab_size=${v}`, apply: (p: Plan) => set(p, 'llama.vocab_size', gguf.u32(v)) })),
  ...[-1, VOCAB, 0x7fffffff].map((v) => ({ name: `bos_token_id=${v}`, apply: (p: Plan) => set(p, 'tokenizer.ggml.bos_token_id', gguf.i32(v)) })),
  ...[-1, VOCAB, 0x7fffffff].map((v) => ({ name: `eos_token_id=${v}`, apply: (p: Plan) => set(p, 'tokenizer.ggml.eos_token_id', gguf.i32(v)) })),
  ...[VOCAB, -5].map((v) => ({ name: `eot/eom/pad/sep ids=${v}`, apply: (p: Plan) => ['eot', 'eom', 'padding', 'seperator', 'unknown'].forEach((k) => set(p, `tokenizer.ggml.${k}_token_id`, gguf.i32(v))) })),
  { name: 'add_bos_token with bos out of range', apply: (p) => (set(p, 'tokenizer.ggml.add_bos_token', gguf.bool(true)), set(p, 'tokenizer.ggml.bos_token_id', gguf.u32(VOCAB + 7))) },
  { name: 'pooling_type=99', apply: (p) => set(p, 'llama.pooling_type', gguf.u32(99)) },
  { name: 'general.file_type=999', apply: (p) => set(p, 'general.file_type', gguf.u32(999)) },
  { name: 'sliding_window=0', apply: (p) => set(p, 'llama.attention.sliding_window', gguf.u32(0)) },
  { name: 'rope.scaling.original_context_length=0', apply: (p) => set(p, 'llama.rope.scaling.original_context_length', gguf.u32(0)) },
];

/** Token lists and their companions, wrong in meaning. */
const TOKENIZER: Mutation[] = [
  { name: 'empty token list', apply: (p) => set(p, 'tokenizer.ggml.tokens', strings([])) },
  { name: 'one token', apply: (p) => set(p, 'tokenizer.ggml.tokens', strings(['a'])) },
  { name: 'every token identical', apply: (p) => set(p, 'tokenizer.ggml.tokens', strings(new Array<string>(VOCAB).fill('a'))) },
  { name: 'every token empty', apply: (p) => set(p, 'tokenizer.ggml.tokens', strings(new Array<string>(VOCAB).fill(''))) },
  { name: 'special tokens renamed', apply: (p) => set(p, 'tokenizer.ggml.tokens', strings(tokens(p).map((t, i) => (i < 3 ? `x${i}` : t)))) },
  { name: 'token list shorter than the embedding', apply: (p) => set(p, 'tokenizer.ggml.tokens', strings(tokens(p).slice(0, VOCAB - 40))) },
  { name: 'token list longer than the embedding', apply: (p) => set(p, 'tokenizer.ggml.tokens', strings([...tokens(p), ...Array.from({ length: 40 }, (_, i) => `extra${i}`)])) },
  { name: 'token types short', apply: (p) => set(p, 'tokenizer.ggml.token_type', gguf.array(GgufValueType.INT32, [1, 1, 1])) },
  { name: 'token types all 99', apply: (p) => set(p, 'tokenizer.ggml.token_type', gguf.array(GgufValueType.INT32, new Array<number>(VOCAB).fill(99))) },
  { name: 'token types all control', apply: (p) => set(p, 'tokenizer.ggml.token_type', gguf.array(GgufValueType.INT32, new Array<number>(VOCAB).fill(3))) },
  { name: 'token types all unused', apply: (p) => set(p, 'tokenizer.ggml.token_type', gguf.array(GgufValueType.INT32, new Array<number>(VOCAB).fill(5))) },
  { name: 'no merges', apply: (p) => remove(p, 'tokenizer.ggml.merges') },
  { name: 'empty merges', apply: (p) => set(p, 'tokenizer.ggml.merges', strings([])) },
  { name: 'malformed merges', apply: (p) => set(p, 'tokenizer.ggml.merges', strings(['', 'a', 'a b c', ' ', 'zz qq'])) },
  { name: 'scores with NaN', apply: (p) => set(p, 'tokenizer.ggml.scores', gguf.array(GgufValueType.FLOAT32, new Array<number>(VOCAB).fill(Number.NaN))) },
  { name: 'scores short', apply: (p) => set(p, 'tokenizer.ggml.scores', gguf.array(GgufValueType.FLOAT32, [0, 1])) },
  { name: 'no token types', apply: (p) => remove(p, 'tokenizer.ggml.token_type') },
  { name: 'no tokens at all', apply: (p) => remove(p, 'tokenizer.ggml.tokens') },
];

const template = (name: string, source: string): Mutation => ({ name: `template: ${name}`, apply: (p) => set(p, 'tokenizer.chat_template', gguf.str(source)) });

/** Chat templates: code from the file that the server runs. */
const TEMPLATES: Mutation[] = [
  template('a 10^9 loop', '{% for i in range(1000000000) %}x{% endfor %}'),
  template('an endless range', '{% for i in range(1/0) %}x{% endfor %}'),
  template('nested loops', '{% for m in messages %}{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}{% endfor %}'),
  template('exponential recursion', '{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(64) }}'),
  template('endless recursion', '{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}'),
  template('a doubling string', "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}"),
  template('a doubling list', '{% set ns = namespace(a=[1]) %}{% for i in range(64) %}{% set ns.a = ns.a + ns.a %}{% endfor %}{{ ns.a|length }}'),
  template('a huge indent', "{{ 'x'|indent(400000000) }}"),
  template('always raises', "{{ raise_exception('this template refuses every conversation') }}"),
  template('reads an undefined attribute', '{{ messages[0].nothing.deeper }}'),
  template('a syntax error', '{% for m in messages %}{{ m.content }'),
  template('an unclosed block', '{% if true %}{% for m in messages %}'),
  template('empty', ''),
  template('whitespace only', '   \n  '),
  template('special tokens only', '<|im_start|><|im_end|><|endoftext|>'),
  template('deeply nested parentheses', `{{ ${'('.repeat(5000)}1${')'.repeat(5000)} }}`),
  template('a 2 MB literal', `${'abc '.repeat(512 * 1024)}{{ messages[0].content }}`),
  template('loops over message content characters', '{% for m in messages %}{% for c in m.content %}{% for i in range(100000) %}{% endfor %}{% endfor %}{% endfor %}'),
  template('tojson with a huge indent', '{{ messages|tojson(indent=300000000) }}'),
  template('no generation prompt', '{% for m in messages %}{{ m.content }}{% endfor %}'),
];

function replaceTensor(plan: Plan, index: number, next: GgufTensorSource | undefined): void {
  if (next) plan.tensors[index] = next;
  else plan.tensors.splice(index, 1);
}

const f32Zeros = (dims: number[]): GgufTensorSource => ({
  name: '',
  dims,
  type: 0,
  data: function* () {
    yield new Uint8Array(dims.reduce((a, b) => a * b, 1) * 4);
  },
});

const f32Fill = (dims: number[], value: number): GgufTensorSource['data'] =>
  function* () {
    yield new Uint8Array(new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value).buffer);
  };

/** Tensors that are present but wrong: missing, duplicated, renamed, reshaped or full of NaN. */
const TENSORS: Mutation[] = [
  { name: 'a layer tensor missing', apply: (p, rng) => replaceTensor(p, 1 + (rng.nextUint32() % (p.tensors.length - 2)), undefined) },
  { name: 'a tensor duplicated', apply: (p, rng) => p.tensors.push({ ...p.tensors[1 + (rng.nextUint32() % (p.tensors.length - 2))]! }) },
  { name: 'an unknown extra tensor', apply: (p) => p.tensors.push({ ...f32Zeros([64]), name: 'blk.0.bogus.weight' }) },
  { name: 'a tensor renamed', apply: (p) => (p.tensors[2] = { ...p.tensors[2]!, name: 'blk.9.attn_q.weight' }) },
  { name: 'a norm with the wrong length', apply: (p) => replaceTensor(p, p.tensors.findIndex((t) => t.name.endsWith('attn_norm.weight')), { ...f32Zeros([32]), name: 'blk.0.attn_norm.weight' }) },
  { name: 'a norm of NaN', apply: (p) => (p.tensors[p.tensors.length - 1] = { ...p.tensors[p.tensors.length - 1]!, data: f32Fill([64], Number.NaN) }) },
  { name: 'a norm of infinity', apply: (p) => (p.tensors[p.tensors.length - 1] = { ...p.tensors[p.tensors.length - 1]!, data: f32Fill([64], Number.POSITIVE_INFINITY) }) },
  { name: 'output norm missing', apply: (p) => replaceTensor(p, p.tensors.length - 1, undefined) },
  { name: 'a 3-D norm', apply: (p) => replaceTensor(p, p.tensors.length - 1, { ...f32Zeros([8, 4, 2]), name: 'output_norm.weight' }) },
  { name: 'an untied output.weight of the wrong shape', apply: (p) => p.tensors.push({ ...f32Zeros([64, 7]), name: 'output.weight' }) },
];

export const MUTATION_GROUPS = { metadata: METADATA, tokenizer: TOKENIZER, templates: TEMPLATES, tensors: TENSORS } as const;
export type MutationGroup = keyof typeof MUTATION_GROUPS;

/** One mutation by its name, for tests that need that very damage (throws when there is none by that name). */
export function mutationNamed(name: string): (plan: Plan) => void {
  const mutation = Object.values(MUTATION_GROUPS).flat().find((m) => m.name === name);
  if (!mutation) throw new Error(`no hostile-model mutation is named ${JSON.stringify(name)}`);
  return (plan) => mutation.apply(plan, Sfc32.forStream(1, 0));
}

/** Every single mutation, once each, in a fixed order: the systematic part of the fuzz. */
export function singleMutations(): Array<{ group: MutationGroup; mutation: Mutation }> {
  return (Object.keys(MUTATION_GROUPS) as MutationGroup[]).flatMap((group) => MUTATION_GROUPS[group].map((mutation) => ({ group, mutation })));
}

/**
 * Writes hostile model number `index` of a fuzz run: the systematic single mutations first, then
 * seeded random combinations of two or three.
 */
export async function writeHostileModel(dir: string, index: number, seed = 7): Promise<HostileModel> {
  const singles = singleMutations();
  const rng = Sfc32.forStream(seed, index);
  const chosen = index < singles.length ? [singles[index]!.mutation] : Array.from({ length: 2 + (rng.nextUint32() % 2) }, () => pick(rng, singles).mutation);
  const plan: Plan = planModel({ preset: 'tiny', type: 'f32', seed: index });
  for (const mutation of chosen) mutation.apply(plan, rng);
  const file = `${dir}/hostile-${index}.gguf`;
  await writeGgufFile({ path: file, metadata: plan.metadata, tensors: plan.tensors });
  return { description: chosen.map((m) => m.name).join(' + '), path: file };
}

/** Writes the tiny model with `mutate` applied to its plan (metadata in file order, tensors). */
export async function writeMutatedModel(file: string, mutate: (plan: Plan) => void, seed = 1): Promise<string> {
  const plan: Plan = planModel({ preset: 'tiny', type: 'f32', seed });
  mutate(plan);
  await writeGgufFile({ path: file, metadata: plan.metadata, tensors: plan.tensors });
  return file;
}

export { set as setMetadata };
