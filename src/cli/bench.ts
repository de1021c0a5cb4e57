import { BENCH_USAGE, parseBenchArgs } from '../bench/options.js';
import { formatReport, formatReportJson } from '../bench/report.js';
import { runBench } from '../bench/run.js';

/** `bench`: measures an OpenAI-compatible server (ours or llama-server) and prints a report. */
export async function benchCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(BENCH_USAGE);
    return;
  }
  const options = parseBenchArgs(argv);
  const report = await runBench({ ...options, onProgress: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(options.json ? formatReportJson(report) : formatReport(report));
  // Failed requests make the command fail, so scripts notice a broken server.
  if (report.levels.some((l) => l.errors > 0)) process.exitCode = 1;
}
