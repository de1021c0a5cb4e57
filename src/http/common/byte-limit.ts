/** The upload limit on a raw request body (a model tar, an Ollama blob), counted while it streams. */
import { Transform, type TransformCallback } from 'node:stream';
import { AppError } from '../../errors.js';

/** Passes bytes through and fails with 'too_large' once more than `maxBytes` went by. */
export class ByteLimit extends Transform {
  private seen = 0;

  /** `what` names the body in the error ("the uploaded model", "the uploaded blob"). Defaults to "the uploaded model". */
  constructor(
    private readonly maxBytes: number,
    private readonly what = 'the uploaded model',
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.maxBytes) {
      callback(new AppError('too_large', `${this.what} is larger than the limit of ${this.maxBytes} bytes`));
      return;
    }
    callback(null, chunk);
  }
}
