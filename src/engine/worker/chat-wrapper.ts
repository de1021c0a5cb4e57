/**
 * Chooses a model's chat wrapper once, at load, and turns template failures into errors a client
 * can act on. Every render runs under the template budget (template-budget.ts). The wrapper is
 * resolved without the Llama instance on purpose: given one, node-llama-cpp falls back to
 * llama.cpp's native Jinja renderer for templates its JavaScript parser rejects, and native code
 * has no budget: a template it loops on would hang the Worker where nothing can stop it.
 */
import { chatWrappers, GeneralChatWrapper, JinjaTemplateChatWrapper, resolveChatWrapper, type ChatWrapper, type LlamaModel } from '#node-llama-cpp';
import { AppError } from '../../errors.js';
import { TemplateBudgetExceeded, withTemplateBudget } from './template-budget.js';
import { TEMPLATE_OVERRUN } from './template-overrun.js';

/** A resolved wrapper and the name node-llama-cpp's `chatWrappers` table gives its class (the hint a later load of the same model may pass). */
export interface ResolvedChatWrapper {
  wrapper: ChatWrapper;
  type: string | undefined;
  /** 'hint' when the hinted type alone was tested and held, 'search' when every type was. */
  resolvedBy: 'hint' | 'search';
}

/**
 * Resolves the model's wrapper. node-llama-cpp finds it by rendering the model's Jinja template
 * against each specialized wrapper in turn until one is equivalent: 0.3-0.5 s of a small model's
 * cold load, spent again at every load. `hint` is the type an earlier load of the same file with
 * the same node-llama-cpp found (LoadMemo.chatWrapperType): every other specialized wrapper then
 * reports itself incompatible for the duration of the call, so only the hinted one is rendered.
 * That gives the very wrapper the full search gave (the others failed the test then and would fail
 * it again; the hinted one's settings are tried in the same order), at the cost of one test. A hint
 * that does not reproduce itself (a changed file under the same ID) falls back to the full search.
 */
export function resolveModelChatWrapper(model: LlamaModel, hint?: string): ResolvedChatWrapper {
  try {
    if (hint !== undefined && Object.hasOwn(chatWrappers, hint)) {
      const hinted = withOnlyCompatible(hint, () => resolveWithBudget(model));
      if (hinted.type === hint) return { ...hinted, resolvedBy: 'hint' };
    }
    return { ...resolveWithBudget(model), resolvedBy: 'search' };
  } catch (err) {
    throw templateError(err, 'cannot be used');
  }
}

function resolveWithBudget(model: LlamaModel): Omit<ResolvedChatWrapper, 'resolvedBy'> {
  const wrapper = withTemplateBudget(
    () =>
      resolveChatWrapper({
        bosString: model.tokens.bosString,
        architecture: model.fileInfo.metadata?.general?.architecture,
        filename: model.filename,
        fileInfo: model.fileInfo,
        tokenizer: model.tokenizer,
      }) ?? new GeneralChatWrapper(),
  );
  return { wrapper, type: Object.entries(chatWrappers).find(([, Class]) => wrapper.constructor === Class)?.[0] };
}

type CompatibilityCheck = (...args: unknown[]) => boolean;
type WrapperClass = { _checkModelCompatibility?: CompatibilityCheck };

/** Runs `work` with every wrapper class but `type`'s reporting itself incompatible; restores them after. */
function withOnlyCompatible<T>(type: string, work: () => T): T {
  const keep = (chatWrappers as Record<string, unknown>)[type] as WrapperClass;
  const patched: Array<{ target: WrapperClass; own: boolean; original: CompatibilityCheck | undefined }> = [];
  const patch = (target: WrapperClass, check: CompatibilityCheck | undefined): void => {
    patched.push({ target, own: Object.hasOwn(target, '_checkModelCompatibility'), original: target._checkModelCompatibility });
    target._checkModelCompatibility = check;
  };
  // Pinned first: the hinted class may inherit its check from a class patched below.
  patch(keep, keep._checkModelCompatibility);
  for (const Class of Object.values(chatWrappers) as unknown as WrapperClass[]) {
    if (patched.some((p) => p.target === Class)) continue;
    patch(Class, () => false);
  }
  try {
    return work();
  } finally {
    for (const { target, own, original } of patched.reverse()) {
      if (own) target._checkModelCompatibility = original;
      else delete target._checkModelCompatibility;
    }
  }
}

/** Runs one render of `wrapper` under the budget; template failures become AppErrors that name the cause. */
export function renderWithBudget<T>(wrapper: ChatWrapper, render: () => T): T {
  try {
    return withTemplateBudget(render);
  } catch (err) {
    if (err instanceof TemplateBudgetExceeded || wrapper instanceof JinjaTemplateChatWrapper) throw templateError(err, 'failed');
    throw err;
  }
}

function templateError(err: unknown, what: string): unknown {
  if (err instanceof TemplateBudgetExceeded) {
    return new AppError('unsupported', `the model's chat template ${what}: ${err.message}`, { cause: err, data: { [TEMPLATE_OVERRUN]: err.limit } });
  }
  if (err instanceof AppError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // A template that raises (raise_exception) is refusing the conversation it was given.
  return new AppError('bad_request', `the model's chat template ${what}: ${message}`, { cause: err });
}
