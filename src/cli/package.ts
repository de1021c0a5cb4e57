import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type Config, loadConfig, registryCredentialsFromEnv } from '../config.js';
import { AppError } from '../errors.js';
import { openLocalModels, type PackageModelOptions, type ProgressEvent } from '../models/index.js';
import { parseReference, RegistryClient } from '../registry/index.js';
import type { Reference } from '../registry/types.js';
import { openModelsForCommand } from './open-models.js';

const USAGE = `Usage: model-runner package --gguf FILE [--license FILE]... [--chat-template FILE] [--mmproj FILE]
                            [--context-size N] [--push] [--models-path DIR] [--insecure-registries LIST] REF

Packages a GGUF file (or the first shard of a split model) as a Docker model artifact.
Without --push the model goes into the local store, tagged REF; the server must not be running
on that store. With --push it goes to REF's registry (credentials from DOCKER_USERNAME and
DOCKER_PASSWORD when MODEL_RUNNER_CREDENTIALS_REGISTRY names that registry, which defaults to
docker.io; or a docker config.json's auths).
`;

function parseContextSize(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^(-1|\d+)$/.test(raw)) throw new AppError('bad_request', `--context-size must be a positive integer or -1, got "${raw}"`);
  return Number(raw);
}

function printProgress(event: ProgressEvent): void {
  if (event.type === 'progress' && event.layer) {
    process.stderr.write(`\r${event.message}`.padEnd(40));
  } else {
    process.stderr.write(`\n${event.message}\n`);
  }
}

/** What goes into the artifact beside the GGUF. */
type ArtifactOptions = Pick<PackageModelOptions, 'licensePaths' | 'chatTemplatePath' | 'mmprojPath' | 'contextSize'>;

async function packageAndPush(ggufPath: string, artifact: ArtifactOptions, reference: Reference, config: Config): Promise<string> {
  // A scratch store: pushing must not leave unreferenced blobs in (or need the lock of) the real one.
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'model-runner-package-'));
  const registry = new RegistryClient({
    insecureRegistries: config.insecureRegistries,
    ...registryCredentialsFromEnv(),
    credentialsRegistry: config.credentialsRegistry,
    stallTimeoutMs: config.registryStallTimeoutMs,
    proxy: { httpProxy: config.httpProxy, httpsProxy: config.httpsProxy, noProxy: config.noProxy },
  });
  try {
    const local = await openLocalModels(scratch, { registry, defaultRegistry: config.defaultRegistry });
    try {
      const { id } = await local.catalog.importGguf(ggufPath, { ...artifact, tag: reference.canonical });
      process.stderr.write(`Pushing model to ${reference.canonical}...\n`);
      await local.catalog.push(reference.canonical, { onEvent: printProgress });
      return id;
    } finally {
      await local.close();
    }
  } finally {
    registry.dispose();
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/** `package`: builds a model artifact from local files and stores it locally or pushes it. */
export async function packageCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      gguf: { type: 'string' },
      license: { type: 'string', multiple: true },
      'chat-template': { type: 'string' },
      mmproj: { type: 'string' },
      'context-size': { type: 'string' },
      push: { type: 'boolean', default: false },
      'models-path': { type: 'string' },
      'insecure-registries': { type: 'string' },
      'default-registry': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (!values.gguf) throw new AppError('bad_request', `--gguf is required\n\n${USAGE}`);
  if (positionals.length !== 1) throw new AppError('bad_request', `package needs exactly one reference (REF)\n\n${USAGE}`);
  // Store and registry settings come from the shared table, so MODELS_PATH and friends apply here too.
  const configArgs: string[] = [];
  for (const flag of ['models-path', 'insecure-registries', 'default-registry'] as const) {
    if (values[flag] !== undefined) configArgs.push(`--${flag}`, values[flag]);
  }
  const config = loadConfig(configArgs);
  const reference = parseReference(positionals[0]!, { defaultRegistry: config.defaultRegistry });
  if (reference.tag === undefined) throw new AppError('bad_request', `${positionals[0]} names a digest; package needs a tag to give the model`);
  const artifact: ArtifactOptions = {
    licensePaths: values.license ?? [],
    chatTemplatePath: values['chat-template'],
    mmprojPath: values.mmproj,
    contextSize: parseContextSize(values['context-size']),
  };

  if (values.push) {
    const id = await packageAndPush(values.gguf, artifact, reference, config);
    process.stdout.write(`${id}\n`);
    return;
  }
  const local = await openModelsForCommand(config.modelsPath, 'package with --push to a registry instead, or stop the server and try again', {
    defaultRegistry: config.defaultRegistry,
  });
  try {
    const { id } = await local.catalog.importGguf(values.gguf, { ...artifact, tag: reference.canonical });
    process.stderr.write(`Model packaged as ${reference.canonical}\n`);
    process.stdout.write(`${id}\n`);
  } finally {
    await local.close();
  }
}
