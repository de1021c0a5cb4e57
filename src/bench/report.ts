/** Renders benchmark reports as an aligned text table or as JSON. */
import type { LevelResult } from './metrics.js';
import type { BenchReport } from './run.js';

/** A number with a fixed count of decimals, or "-" when it could not be measured. */
export function fmt(value: number | undefined, decimals = 1): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(decimals);
}

/** Aligns rows of cells into columns: the first column left-aligned, the others right-aligned. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The server's own prompt speed (p50), when every successful request of the level carried one. */
export function serverPromptTps(level: LevelResult): number | undefined {
  return level.serverPromptTps.count > 0 && level.serverPromptTps.count === level.ttftMs.count ? level.serverPromptTps.p50 : undefined;
}

/**
 * The prompt speed a level reports: the server's own figure when every successful request
 * carried one (it excludes HTTP and queueing), else prompt tokens / TTFT seen by the client.
 */
export function reportedPromptTps(level: LevelResult): { value: number | undefined; source: 'server' | 'client' } {
  const fromServer = serverPromptTps(level);
  return fromServer !== undefined ? { value: fromServer, source: 'server' } : { value: level.promptTps.p50, source: 'client' };
}

function levelRow(level: LevelResult): string[] {
  const prompt = reportedPromptTps(level);
  return [
    String(level.concurrency),
    String(level.requests),
    String(level.errors),
    fmt(level.ttftMs.p50),
    fmt(level.ttftMs.p99),
    fmt(level.decodeTps.p50),
    `${fmt(prompt.value)}${prompt.source === 'server' ? ' (s)' : ''}`,
    fmt(level.aggregateTps),
    level.requests - level.errors > 0 ? fmt(level.completionTokens / (level.requests - level.errors), 0) : '-',
    level.requests - level.errors > 0 ? fmt(level.promptTokens / (level.requests - level.errors), 0) : '-',
  ];
}

export function formatReport(report: BenchReport): string {
  const p = report.prompt;
  const promptLine = p.fixed
    ? 'prompt: fixed text'
    : `prompt: ~${p.targetTokens} tokens (${p.words} words, ${p.calibration?.measured ? 'calibrated' : 'guessed ratio'}), unique per request`;
  const header = ['conc', 'reqs', 'errors', 'ttft p50 ms', 'ttft p99 ms', 'decode tok/s/stream', 'prompt tok/s', 'aggregate tok/s', 'gen tok/req', 'prompt tok/req'];
  const lines = [
    `${report.endpoint}  model=${report.model}  max_tokens=${report.maxTokens}${report.ignoreEos ? '  ignore_eos' : ''}`,
    promptLine,
    '',
    formatTable(header, report.levels.map(levelRow)),
    '',
    'decode = (tokens - 1) / time after the first token, p50 over requests; aggregate = all generated tokens / wall time;',
    'prompt tok/s is p50 of prompt tokens / TTFT, or the server\'s timings.prompt_per_second where marked (s).',
  ];
  for (const level of report.levels) {
    if (level.tokenSource === 'chunks' || level.tokenSource === 'mixed') {
      lines.push(`note: concurrency ${level.concurrency} counted tokens from chunks (the server sent no usage).`);
    }
    // A few cached tokens are the chat template's shared start; more means prefill was skipped.
    if (level.cachedPromptTokens > 0.1 * level.promptTokens) {
      lines.push(`note: concurrency ${level.concurrency}: the server took ${level.cachedPromptTokens} of ${level.promptTokens} prompt tokens from its cache.`);
    }
    if (level.retries > 0) {
      lines.push(`note: concurrency ${level.concurrency}: ${level.retries} requests were sent again after the server dropped the connection unanswered.`);
    }
    for (const error of level.errorSamples) lines.push(`error at concurrency ${level.concurrency}: ${error}`);
  }
  return `${lines.join('\n')}\n`;
}

export function formatReportJson(report: BenchReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
