import type { Response } from 'express';

/** Resolves when the response can take more data, or when it closed (then nothing more will be written). */
export function waitForDrain(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
