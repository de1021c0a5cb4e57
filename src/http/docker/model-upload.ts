/**
 * Request bodies that carry a model: a multipart form with a GGUF `file` (saved by multer into a
 * private temp directory, always removed afterwards). Raw bodies are counted against the upload
 * limit by common/byte-limit.ts.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Request, Response } from 'express';
import multer from 'multer';
import { AppError } from '../../errors.js';
import { UPLOAD_PREFIX } from '../../store/index.js';

export interface UploadedGguf {
  /** The saved file; it and its directory go away with `cleanup()`. */
  path: string;
  /** The client's file name, for messages only (never for paths). */
  originalName: string;
  /** The optional `tag` form field. */
  tag?: string;
  cleanup(): Promise<void>;
}

export interface ReceiveGgufOptions {
  /** Directory that holds one temp directory per upload. */
  uploadDir: string;
  /** Largest file accepted. */
  maxBytes: number;
}

const GGUF_MAGIC = Buffer.from('GGUF', 'latin1');

function multerError(err: unknown, maxBytes: number): AppError {
  if (err instanceof multer.MulterError) {
    if (err.code === 'LIMIT_FILE_SIZE') return new AppError('too_large', `the uploaded model is larger than the limit of ${maxBytes} bytes`);
    if (err.code === 'LIMIT_UNEXPECTED_FILE') {
      return new AppError('bad_request', `unexpected file field ${JSON.stringify(err.field ?? '')}: send the model in a field named "file"`);
    }
    return new AppError('bad_request', `invalid multipart upload: ${err.message}`);
  }
  if (err instanceof AppError) return err;
  return new AppError('bad_request', `invalid multipart upload: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/**
 * Saves the `file` field of a multipart request. Rejects (and leaves nothing behind) when the
 * field is missing, over the limit, or does not start with the GGUF magic.
 */
export async function receiveGgufUpload(req: Request, res: Response, options: ReceiveGgufOptions): Promise<UploadedGguf> {
  await fs.mkdir(options.uploadDir, { recursive: true });
  // The prefix is what the store's open-time cleanup recognises as an interrupted upload.
  const dir = await fs.mkdtemp(path.join(options.uploadDir, UPLOAD_PREFIX));
  const cleanup = () => fs.rm(dir, { recursive: true, force: true });
  try {
    const upload = multer({
      // The name is ours: the client's name never reaches the file system.
      storage: multer.diskStorage({ destination: dir, filename: (_req, _file, cb) => cb(null, 'model.gguf') }),
      limits: { fileSize: options.maxBytes, files: 1, fields: 8, fieldSize: 4096, parts: 10 },
    }).single('file');
    await new Promise<void>((resolve, reject) => upload(req, res, (err?: unknown) => (err ? reject(multerError(err, options.maxBytes)) : resolve())));
    const file = req.file;
    if (!file?.path) throw new AppError('bad_request', 'the upload has no "file" field holding a GGUF model');
    await assertGgufMagic(file.path, file.originalname);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const tag = typeof body.tag === 'string' && body.tag.trim() !== '' ? body.tag.trim() : undefined;
    return { path: file.path, originalName: file.originalname, ...(tag === undefined ? {} : { tag }), cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function assertGgufMagic(file: string, originalName: string): Promise<void> {
  const handle = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    if (bytesRead < 4 || !head.equals(GGUF_MAGIC)) {
      throw new AppError('bad_request', `uploaded file ${JSON.stringify(originalName)} is not a GGUF model: it does not start with the "GGUF" magic`);
    }
  } finally {
    await handle.close();
  }
}
