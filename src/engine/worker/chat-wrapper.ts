/**
 * Chooses a model's chat wrapper once, at load, and turns template failures into errors a client
 * can act on. Every render runs under the template budget (template-budget.ts). The wrapper is
 * resolved without the Llama instance on purpose: given one, node-llama-cpp falls back to
 * llama.cpp's native Jinja renderer for templates its JavaScript parser rejects, and native code
 * has no budget: a template it loops on would hang the Worker where nothing can stop it.
 */
import { GeneralChatWrapper, JinjaTemplateChatWrapper, resolveChatWrapper, type ChatWrapper, type LlamaModel } from 'node-llama-cpp';
import { AppError } from '../../errors.js';
import { TemplateBudgetExceeded, withTemplateBudget } from './template-budget.js';
import { TEMPLATE_OVERRUN } from './template-overrun.js';


export function resolveModelChatWrapper(model: LlamaModel): ChatWrapper {
  try {
    return withTemplateBudget(
      () =>
        resolveChatWrapper({
          bosString: model.tokens.bosString,
          architecture: model.fileInfo.metadata?.general?.architecture,
          filename: model.filename,
          fileInfo: model.fileInfo,
          tokenizer: model.tokenizer,
        }) ?? new GeneralChatWrapper(),
    );
  } catch (err) {
    throw templateError(err, 'cannot be used');
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
