import { parseArgs } from 'node:util';
import { AppError } from '../errors.js';
import { generateModel, isPresetName, MODEL_PRESETS, WEIGHT_TYPES, type WeightType } from '../gguf/index.js';

const USAGE = `Usage: model-runner generate-model --out FILE [--preset tiny] [--type q8_0] [--seed 0]
                                   [--context-length N] [--name NAME] [--allow-invalid-utf8] [--reranker]
                                   [--thinking]

Writes a random-weight llama GGUF model (deterministic: same options, same bytes).
  --preset   ${Object.keys(MODEL_PRESETS).join(' | ')} (default tiny)
  --type     ${Object.keys(WEIGHT_TYPES).join(' | ')} (default q8_0)
  --reranker a qwen3 reranker (pooling type rank, classification head) for /rerank and /score
  --thinking a reasoning model: <think> tokens and a template whose replies open with <think>
`;

function parseInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new AppError('bad_request', `${flag} must be a non-negative integer, got "${value}"`);
  return Number(value);
}

/** `generate-model`: writes a test model and prints its path, size and parameter count. */
export async function generateModelCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', short: 'o' },
      preset: { type: 'string', default: 'tiny' },
      type: { type: 'string', default: 'q8_0' },
      seed: { type: 'string' },
      'context-length': { type: 'string' },
      name: { type: 'string' },
      'allow-invalid-utf8': { type: 'boolean', default: false },
      reranker: { type: 'boolean', default: false },
      thinking: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (!values.out) throw new AppError('bad_request', `--out is required\n\n${USAGE}`);
  const preset = values.preset!;
  if (!isPresetName(preset)) throw new AppError('bad_request', `unknown preset "${preset}"\n\n${USAGE}`);
  const type = values.type!;
  if (!Object.prototype.hasOwnProperty.call(WEIGHT_TYPES, type)) {
    throw new AppError('bad_request', `unknown type "${type}"\n\n${USAGE}`);
  }
  const started = Date.now();
  const result = await generateModel({
    path: values.out,
    preset,
    type: type as WeightType,
    seed: parseInteger('--seed', values.seed),
    contextLength: parseInteger('--context-length', values['context-length']),
    name: values.name,
    allowInvalidUtf8: values['allow-invalid-utf8'],
    reranker: values.reranker,
    thinking: values.thinking,
  });
  process.stdout.write(
    `${result.path}: ${result.size} bytes, ${result.parameters} parameters, ${Date.now() - started} ms\n`,
  );
}
