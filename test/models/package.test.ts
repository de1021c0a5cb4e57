import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { generateModel } from '../../src/gguf/index.js';
import { parseImageManifest } from '../../src/models/artifact-manifest.js';
import {
  ANNOTATION_FILE_METADATA,
  ANNOTATION_FILEPATH,
  ANNOTATION_MEDIATYPE_UNTESTED,
  DOCKER_CHAT_TEMPLATE,
  DOCKER_CONFIG_V01,
  DOCKER_GGUF,
  DOCKER_LICENSE,
  OCI_MANIFEST,
} from '../../src/models/media-types.js';
import { parseModelConfig } from '../../src/models/model-config.js';
import { packageModel } from '../../src/models/package.js';
import { sha256Digest, sha256File } from '../../src/util/digest.js';
import { tempDir, tempStore } from './artifact-fixtures.js';

const CREATED = new Date('2025-03-04T05:06:07Z');

describe('packaging a GGUF file', () => {
  let env: Awaited<ReturnType<typeof tempStore>>;
  let files: string;
  let ggufPath: string;

  before(async () => {
    env = await tempStore('mr-package');
    files = await tempDir('mr-package-files');
    ggufPath = path.join(files, 'tiny.gguf');
    await generateModel({ path: ggufPath, preset: 'tiny', type: 'q8_0', seed: 7 });
  });
  after(async () => {
    await env.cleanup();
    await fs.rm(files, { recursive: true, force: true });
  });

  test('gives an OCI manifest with a v0.1 config and one annotated GGUF layer holding the file', async () => {
    const packaged = await packageModel(env.store, { ggufPath, created: CREATED });
    assert.equal(packaged.id, sha256Digest(packaged.manifestBytes));
    const manifest = parseImageManifest(packaged.manifestBytes);
    assert.equal(manifest.mediaType, OCI_MANIFEST);
    assert.equal(manifest.config.mediaType, DOCKER_CONFIG_V01);
    assert.equal(manifest.config.digest, packaged.configDigest);
    assert.equal(manifest.layers.length, 1);

    const [layer] = manifest.layers;
    const file = await sha256File(ggufPath);
    assert.equal(layer!.mediaType, DOCKER_GGUF);
    assert.equal(layer!.digest, file.digest);
    assert.equal(layer!.size, file.size);
    assert.deepEqual(Object.keys(layer!.annotations!), [ANNOTATION_MEDIATYPE_UNTESTED, ANNOTATION_FILE_METADATA, ANNOTATION_FILEPATH]);
    assert.equal(layer!.annotations![ANNOTATION_FILEPATH], 'tiny.gguf');
    assert.equal(layer!.annotations![ANNOTATION_MEDIATYPE_UNTESTED], 'false');
    const metadata = JSON.parse(layer!.annotations![ANNOTATION_FILE_METADATA]!);
    assert.deepEqual(Object.keys(metadata), ['name', 'mode', 'uid', 'gid', 'size', 'mtime', 'typeflag']);
    assert.equal(metadata.name, 'tiny.gguf');
    assert.equal(metadata.size, file.size);
    assert.equal(metadata.mtime, '2025-03-04T05:06:07Z');
    assert.deepEqual(await env.store.readBlob(layer!.digest), await fs.readFile(ggufPath));
    // Not stored as a model: that is the caller's decision.
    await assert.rejects(env.store.readManifest(packaged.id), { code: 'not_found' });
  });

  test('the config describes the GGUF and its diff IDs are the layer digests', async () => {
    const packaged = await packageModel(env.store, { ggufPath, created: CREATED, contextSize: 256 });
    const configBytes = await env.store.readBlob(packaged.configDigest);
    const parsed = parseModelConfig(DOCKER_CONFIG_V01, configBytes);
    assert.equal(parsed.config.format, 'gguf');
    assert.equal(parsed.config.architecture, 'llama');
    assert.equal(parsed.config.quantization, 'Q8_0');
    assert.match(parsed.config.parameters, /^\d+(\.\d\d)?[KMB]?$/);
    assert.match(parsed.config.size, /^\d+\.\d\dKiB$/);
    assert.equal(parsed.config.context_size, 256);
    assert.equal(parsed.config.gguf['general.architecture'], 'llama');
    assert.equal(parsed.created, CREATED.getTime() / 1000);
    assert.deepEqual(parsed.diffIds, packaged.layers.map((l) => l.digest));
  });

  test('packaging twice with the same creation time gives the same model ID', async () => {
    const first = await packageModel(env.store, { ggufPath, created: CREATED });
    const second = await packageModel(env.store, { ggufPath, created: CREATED });
    assert.equal(second.id, first.id);
    assert.deepEqual(second.manifestBytes, first.manifestBytes);
    const later = await packageModel(env.store, { ggufPath, created: new Date(CREATED.getTime() + 1000) });
    assert.notEqual(later.id, first.id);
  });

  test('a license and a chat template become layers after the weights, with their own media types', async () => {
    const license = path.join(files, 'LICENSE');
    const template = path.join(files, 'template.jinja');
    await fs.writeFile(license, 'Apache-2.0\n');
    await fs.writeFile(template, '{% for m in messages %}{{ m.content }}{% endfor %}');
    const packaged = await packageModel(env.store, { ggufPath, licensePaths: [license], chatTemplatePath: template, created: CREATED });
    assert.deepEqual(
      packaged.layers.map((l) => [l.mediaType, l.annotations?.[ANNOTATION_FILEPATH]]),
      [
        [DOCKER_GGUF, 'tiny.gguf'],
        [DOCKER_LICENSE, 'LICENSE'],
        [DOCKER_CHAT_TEMPLATE, 'template.jinja'],
      ],
    );
    assert.equal((await env.store.readBlob(packaged.layers[1]!.digest)).toString(), 'Apache-2.0\n');
    const config = parseModelConfig(DOCKER_CONFIG_V01, await env.store.readBlob(packaged.configDigest));
    assert.deepEqual(config.diffIds, packaged.layers.map((l) => l.digest));
  });

  test('a file that is not GGUF is refused with a message naming it', async () => {
    const notGguf = path.join(files, 'notes.gguf');
    await fs.writeFile(notGguf, 'this is plain text, not a model\n'.repeat(8));
    await assert.rejects(packageModel(env.store, { ggufPath: notGguf }), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, 'bad_request');
      assert.ok(err.message.includes(notGguf), err.message);
      return true;
    });
  });

  test('a missing GGUF file is refused with a message naming it', async () => {
    const missing = path.join(files, 'absent.gguf');
    await assert.rejects(packageModel(env.store, { ggufPath: missing }), (err: unknown) => {
      assert.ok(err instanceof AppError && err.code === 'bad_request');
      assert.ok(err.message.includes(missing), err.message);
      return true;
    });
  });

  test('the shards of a split model are found from the first and kept in order', async () => {
    const dir = await tempDir('mr-package-shards');
    try {
      const first = path.join(dir, 'split-00001-of-00002.gguf');
      const second = path.join(dir, 'split-00002-of-00002.gguf');
      await generateModel({ path: second, preset: 'tiny', type: 'q8_0', seed: 2 });
      await generateModel({ path: first, preset: 'tiny', type: 'q8_0', seed: 1 });
      const packaged = await packageModel(env.store, { ggufPath: first, created: CREATED });
      assert.deepEqual(
        packaged.layers.map((l) => l.annotations?.[ANNOTATION_FILEPATH]),
        ['split-00001-of-00002.gguf', 'split-00002-of-00002.gguf'],
      );
      assert.equal(packaged.layers[0]!.digest, (await sha256File(first)).digest);
      assert.equal(packaged.layers[1]!.digest, (await sha256File(second)).digest);

      await fs.rm(second);
      await assert.rejects(packageModel(env.store, { ggufPath: first }), (err: unknown) => {
        assert.ok(err instanceof AppError && err.code === 'bad_request');
        assert.match(err.message, /split-00002-of-00002\.gguf is missing/);
        return true;
      });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
