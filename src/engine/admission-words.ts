/** How a dying engine's words reach an API client: the telling lines, without the server's paths. */

/**
 * The lines of a dying engine's stderr that say why (GGML_ASSERT, an uncaught C++ exception, a
 * V8 fatal error), without file-system paths: refusals reach API clients.
 */
export function lastWords(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^#+/, '').trim())
    .filter((l) => l.length > 0 && !/^(=+|-+.*-+|\d+: 0x.*|FailureMessage Object.*)$/.test(l));
  const telling = lines.filter((l) => /GGML_ASSERT|terminate called|what\(\)|fatal|error|abort|out of memory|exception/i.test(l));
  const chosen = (telling.length > 0 ? telling : lines).slice(-3).join(' | ');
  const scrubbed = scrubPaths(chosen);
  return scrubbed.length > 500 ? `${scrubbed.slice(0, 497)}...` : scrubbed;
}

/** Keeps only the last component of absolute paths ("/a/b/llama-model.cpp:12" -> "llama-model.cpp:12"). */
export function scrubPaths(text: string): string {
  return text.replace(/(?:[A-Za-z]:)?(?:[/\\][^\s/\\:'"()]+)+[/\\]([^\s/\\:'"()]+)/g, '$1');
}
