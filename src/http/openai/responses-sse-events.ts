/** Server-sent events with an `event:` line per frame, as the Responses API streams them (no [DONE]). */
import type { Response } from 'express';
import { createSseWriter } from '../common/sse.js';

export interface TypedSseWriter {
  /** Writes one frame named by the value's `type`; resolves once the socket can take more. */
  send(value: { type: string }): Promise<void>;
  end(): void;
}

export function createTypedSseWriter(res: Response): TypedSseWriter {
  // The plain writer sets the headers; frames differ only by their event line.
  const plain = createSseWriter(res);
  return {
    send: (value) => plain.sendEvent(value.type, value),
    end: () => plain.end(),
  };
}
