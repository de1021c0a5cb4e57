/** Reading llama.cpp's own account of a failed model load. */

/**
 * Why llama.cpp refused a model, from the error lines it logged (node-llama-cpp's own error says
 * only "Failed to load model"): the "error loading model: REASON" line, else the first error line.
 */
export function loadFailureReason(errorLines: readonly string[]): string | undefined {
  for (const line of errorLines) {
    const match = /error loading model:\s*(.+)$/.exec(line);
    if (match) return match[1]!.replace(/\s+/g, ' ').trim();
  }
  return errorLines[0]?.replace(/\s+/g, ' ').trim();
}
