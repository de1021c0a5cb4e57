/**
 * Grammars that constrain output: any JSON, a JSON schema, or a list of literal alternatives
 * (function names). Built grammars are cached per Worker because compiling one costs a few ms
 * and clients tend to resend the same schema.
 */
import { LlamaGrammarEvaluationState, type Llama, type LlamaGrammar, type LlamaModel } from '#node-llama-cpp';
import { AppError } from '../../errors.js';
import type { SamplingOptions } from '../types.js';

const CACHE_LIMIT = 32;

/**
 * What node-llama-cpp's JSON grammars allow after the closed value, and the stop trigger it gives
 * them: a model that never samples its end token would otherwise pad a JSON answer or a call's
 * arguments with newlines (up to the token limit, or until the grammar runs out).
 */
export const JSON_GRAMMAR_END = '\n'.repeat(4);

/** Whether `sampling` constrains the answer to JSON. */
export function answersInJson(sampling: SamplingOptions): boolean {
  return sampling.json === true || sampling.jsonSchema !== undefined;
}

export class GrammarCache {
  private readonly cache = new Map<string, Promise<LlamaGrammar>>();

  constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
  ) {}

  /** The evaluation state for a request's json/jsonSchema options, or undefined when unconstrained. */
  async stateFor(sampling: SamplingOptions): Promise<LlamaGrammarEvaluationState | undefined> {
    if (sampling.jsonSchema) return this.newState(await this.forJsonSchema(sampling.jsonSchema));
    if (sampling.json) return this.newState(await this.get('json', () => this.llama.getGrammarFor('json')));
    return undefined;
  }

  forJsonSchema(schema: Record<string, unknown>): Promise<LlamaGrammar> {
    return this.get(`schema:${JSON.stringify(schema)}`, async () => {
      try {
        // GbnfJsonSchema is a typed subset of JSON Schema; unsupported shapes throw here.
        return await this.llama.createGrammarForJsonSchema(schema as never);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new AppError('bad_request', `unsupported JSON schema: ${message}`, { cause: err });
      }
    });
  }

  /** A grammar whose only sentences are the given literals. */
  forAlternatives(literals: readonly string[]): Promise<LlamaGrammar> {
    const body = literals.map((l) => JSON.stringify(l)).join(' | ');
    return this.get(`alt:${body}`, () => this.llama.createGrammar({ grammar: `root ::= ${body}` }));
  }

  newState(grammar: LlamaGrammar): LlamaGrammarEvaluationState {
    return new LlamaGrammarEvaluationState({ model: this.model, grammar });
  }

  private get(key: string, build: () => Promise<LlamaGrammar>): Promise<LlamaGrammar> {
    let grammar = this.cache.get(key);
    if (!grammar) {
      grammar = build();
      grammar.catch(() => this.cache.delete(key));
      if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, grammar);
    }
    return grammar;
  }
}
