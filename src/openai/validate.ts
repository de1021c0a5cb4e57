/**
 * Field readers for OpenAI request bodies. Every failure is an AppError('bad_request') whose
 * message names the field and whose data carries `param`, as OpenAI's own errors do.
 * `null` counts as absent: OpenAI clients send explicit nulls for options they leave unset.
 */
import { AppError } from '../errors.js';

export type JsonObject = Record<string, unknown>;

export function badParam(param: string, message: string): AppError {
  return new AppError('bad_request', message, { data: { param } });
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The request body itself must be an object; anything else has no fields to read. */
export function requireObjectBody(body: unknown): JsonObject {
  if (!isJsonObject(body)) {
    throw new AppError('bad_request', 'invalid request: the body must be a JSON object');
  }
  return body;
}

export interface NumberRule {
  /** Smallest accepted value. Defaults to no bound. */
  min?: number;
  /** Largest accepted value. Defaults to no bound. */
  max?: number;
  /** Accept only integers. Defaults to false. */
  integer?: boolean;
}

function describeRule(rule: NumberRule): string {
  const kind = rule.integer ? 'an integer' : 'a number';
  if (rule.min !== undefined && rule.max !== undefined) return `${kind} between ${rule.min} and ${rule.max}`;
  if (rule.min !== undefined) return `${kind} >= ${rule.min}`;
  if (rule.max !== undefined) return `${kind} <= ${rule.max}`;
  return kind;
}

export function checkNumber(value: unknown, param: string, rule: NumberRule = {}): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!rule.integer || Number.isSafeInteger(value)) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.max === undefined || value <= rule.max);
  if (!ok) throw badParam(param, `${param} must be ${describeRule(rule)}, got ${JSON.stringify(value)}`);
  return value as number;
}

export function optionalNumber(body: JsonObject, field: string, rule: NumberRule = {}): number | undefined {
  const value = body[field];
  return value === undefined || value === null ? undefined : checkNumber(value, field, rule);
}

export function optionalBoolean(body: JsonObject, field: string, param = field): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badParam(param, `${param} must be a boolean, got ${JSON.stringify(value)}`);
  return value;
}

export function optionalString(body: JsonObject, field: string, param = field): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badParam(param, `${param} must be a string, got ${JSON.stringify(value)}`);
  return value;
}

export function optionalObject(body: JsonObject, field: string, param = field): JsonObject | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value)) throw badParam(param, `${param} must be an object`);
  return value;
}
