/** Response ids and timestamps in OpenAI's forms. */
import { randomBytes } from 'node:crypto';

/** OpenAI ids are a prefix plus random characters: "chatcmpl-…", "cmpl-…". */
export function newResponseId(prefix: 'chatcmpl' | 'cmpl'): string {
  return `${prefix}-${randomBytes(15).toString('hex')}`;
}

export function unixSeconds(date: Date = new Date()): number {
  return Math.floor(date.getTime() / 1000);
}
