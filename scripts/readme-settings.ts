/**
 * Regenerates the configuration table of README.md from the SETTINGS rows of src/config.ts, so
 * the README can never disagree with --help. Only the text between the two markers is replaced.
 * Run with `make readme-settings` (node --import tsx scripts/readme-settings.ts [README path]).
 */
import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatSettingsMarkdown } from '../src/config.js';

export const SETTINGS_START = '<!-- settings:start -->';
export const SETTINGS_END = '<!-- settings:end -->';

/** `readme` with the table between the markers replaced by the current one; throws without both markers. */
export function withSettingsTable(readme: string, table: string = formatSettingsMarkdown()): string {
  const start = readme.indexOf(SETTINGS_START);
  const end = readme.indexOf(SETTINGS_END);
  if (start < 0 || end < start || readme.indexOf(SETTINGS_START, start + 1) >= 0) {
    throw new Error(`the README needs exactly one ${SETTINGS_START} followed by ${SETTINGS_END}`);
  }
  return `${readme.slice(0, start + SETTINGS_START.length)}\n${table}\n${readme.slice(end)}`;
}

async function main(readmePath: string): Promise<void> {
  const before = await fs.readFile(readmePath, 'utf8');
  const after = withSettingsTable(before);
  if (after !== before) await fs.writeFile(readmePath, after);
  console.log(after === before ? `${readmePath} is up to date` : `updated ${readmePath}`);
}

// Run only as a script: the test imports withSettingsTable without touching any file.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main(process.argv[2] ?? fileURLToPath(new URL('../README.md', import.meta.url)));
}
