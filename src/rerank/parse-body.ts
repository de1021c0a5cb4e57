/** Validates a JSON body against a zod schema; the first problem becomes a 400 naming its field. */
import type { z } from 'zod';
import { AppError } from '../errors.js';

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError('bad_request', 'the request body must be a JSON object');
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = issue.path.map(String).join('.');
  // An absent field would get its type's wording; name it plainly instead.
  const field = issue.path[0];
  const absent = field !== undefined && issue.path.length === 1 && (body as Record<PropertyKey, unknown>)[field] === undefined;
  const message = absent ? `${param} is required` : issue.message.startsWith(String(issue.path[0] ?? '')) ? issue.message : `${param}: ${issue.message}`;
  throw new AppError('bad_request', message, { data: { param } });
}
