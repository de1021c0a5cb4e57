import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { RuntimeManifest } from '../../../src/binary/manifest.js';
import { openPayload } from '../../../src/binary/payload.js';
import { ensureRuntime } from '../../../src/binary/unpack.js';

const FILES: Array<{ path: string; content: string; executable: boolean }> = [
  { path: 'package.json', content: '{"type":"module"}', executable: false },
  { path: 'dist/engine/worker/main.js', content: 'export const worker = 1;\n', executable: false },
  { path: 'build/Release/addon.node', content: 'not really ELF', executable: true },
  { path: 'empty.txt', content: '', executable: false },
];

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const manifest: RuntimeManifest = {
  files: FILES.map((f) => ({ path: f.path, sha256: sha256(f.content), size: Buffer.byteLength(f.content), executable: f.executable })),
};

let root: string;
let binary: string;
let count = 0;
/** A fresh runtime folder path (not created) for each test. */
const freshDir = () => path.join(root, 'cache', `build-${++count}`);
const ensure = (dir: string, from = binary) => ensureRuntime({ dir, manifest, payload: openPayload(from, manifest) });

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-unpack-'));
  binary = path.join(root, 'binary');
  // Whatever precedes the payload (the executable itself) is not read.
  await fs.writeFile(binary, Buffer.concat([Buffer.from('ELF and the injected blob'), ...FILES.map((f) => Buffer.from(f.content))]));
});

after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

test('a first start writes every file with its content and mode, and leaves no staging folder', async () => {
  const dir = freshDir();
  const result = await ensure(dir);
  assert.equal(result.unpacked, true);
  assert.equal(result.bytesWritten, FILES.reduce((sum, f) => sum + Buffer.byteLength(f.content), 0));
  for (const file of FILES) {
    assert.equal(await fs.readFile(path.join(dir, file.path), 'utf8'), file.content);
    assert.equal(((await fs.stat(path.join(dir, file.path))).mode & 0o111) !== 0, file.executable, file.path);
  }
  assert.deepEqual((await fs.readdir(path.dirname(dir))).filter((n) => n.endsWith('.tmp')), []);
});

test('a later start writes nothing and hashes nothing when every file is as it was left', async () => {
  const dir = freshDir();
  await ensure(dir);
  const inodes = await Promise.all(FILES.map(async (f) => (await fs.stat(path.join(dir, f.path))).ino));
  assert.deepEqual(await ensure(dir), { unpacked: false, hashed: 0, replaced: [], bytesWritten: 0 });
  assert.deepEqual(await Promise.all(FILES.map(async (f) => (await fs.stat(path.join(dir, f.path))).ino)), inodes);
});

test('a file changed in place with its size and mtime kept, a deleted file and a lost executable bit are all replaced', async () => {
  const dir = freshDir();
  await ensure(dir);
  const script = path.join(dir, 'dist/engine/worker/main.js');
  const stats = await fs.stat(script);
  await fs.writeFile(script, 'x'.repeat(stats.size));
  await fs.utimes(script, stats.atime, stats.mtime);
  await fs.rm(path.join(dir, 'package.json'));
  await fs.chmod(path.join(dir, 'build/Release/addon.node'), 0o644);

  const result = await ensure(dir);
  assert.deepEqual([...result.replaced].sort(), ['build/Release/addon.node', 'dist/engine/worker/main.js', 'package.json']);
  for (const file of FILES) assert.equal(await fs.readFile(path.join(dir, file.path), 'utf8'), file.content);
  assert.notEqual((await fs.stat(path.join(dir, 'build/Release/addon.node'))).mode & 0o111, 0);
  assert.deepEqual((await ensure(dir)).replaced, []);
});

test('a file touched but unchanged is hashed once, kept, and not hashed again at the next start', async () => {
  const dir = freshDir();
  await ensure(dir);
  const file = path.join(dir, 'package.json');
  const inode = (await fs.stat(file)).ino;
  await fs.utimes(file, new Date(), new Date());
  assert.deepEqual(await ensure(dir), { unpacked: false, hashed: 1, replaced: [], bytesWritten: 0 });
  assert.equal((await fs.stat(file)).ino, inode);
  assert.equal((await ensure(dir)).hashed, 0);
});

test('two first starts at once both succeed: one folder wins, the other start uses it', async () => {
  const dir = freshDir();
  const results = await Promise.all([ensure(dir), ensure(dir), ensure(dir)]);
  assert.equal(results.filter((r) => r.unpacked).length, 1);
  assert.ok(results.every((r) => r.replaced.length === 0));
  for (const file of FILES) assert.equal(await fs.readFile(path.join(dir, file.path), 'utf8'), file.content);
  assert.deepEqual((await fs.readdir(path.dirname(dir))).filter((n) => n.endsWith('.tmp')), []);
});

test('a staging folder left by a start that died is removed by the next first start', async () => {
  const dir = freshDir();
  await fs.mkdir(path.dirname(dir), { recursive: true });
  // No process has this id: pid_max on Linux is at most 2^22.
  const dead = `${dir}.99999999.0badf00d.tmp`;
  await fs.mkdir(dead);
  await ensure(dir);
  await assert.rejects(fs.access(dead));
});

test('a payload whose bytes do not match the manifest is refused and leaves no folder behind', async () => {
  const dir = freshDir();
  const altered = path.join(root, 'altered-binary');
  const bytes = await fs.readFile(binary);
  bytes[bytes.length - 3] ^= 0xff;
  await fs.writeFile(altered, bytes);
  await assert.rejects(ensure(dir, altered), /does not match its manifest/);
  await assert.rejects(fs.access(dir));
  assert.deepEqual((await fs.readdir(path.dirname(dir))).filter((n) => n.endsWith('.tmp')), []);
});

test('a binary too short to hold its payload is refused by name', async () => {
  const short = path.join(root, 'short-binary');
  await fs.writeFile(short, 'tiny');
  assert.throws(() => openPayload(short, manifest), /short-binary is 4 bytes, too short for its \d+-byte payload/);
});
