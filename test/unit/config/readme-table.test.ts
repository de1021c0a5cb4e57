import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { describe, test } from 'node:test';
import { formatSettingsMarkdown, SETTINGS } from '../../../src/config.js';
import { SETTINGS_END, SETTINGS_START, withSettingsTable } from '../../../scripts/readme-settings.js';

const README = new URL('../../../README.md', import.meta.url);

describe("the README's configuration table", () => {
  test('README.md holds exactly the generated table between the settings markers', async () => {
    const readme = await fs.readFile(README, 'utf8');
    const start = readme.indexOf(SETTINGS_START);
    const end = readme.indexOf(SETTINGS_END);
    assert.ok(start >= 0 && end > start, 'README.md lacks the settings markers');
    const between = readme.slice(start + SETTINGS_START.length, end);
    assert.equal(between, `\n${formatSettingsMarkdown()}\n`, 'the table is stale: run `make readme-settings`');
  });

  test('the table sits under a Configuration heading after the API examples', async () => {
    const readme = await fs.readFile(README, 'utf8');
    const examples = readme.indexOf('\n## API examples');
    const configuration = readme.indexOf('\n## Configuration');
    assert.ok(examples >= 0 && configuration > examples);
    assert.ok(readme.indexOf(SETTINGS_START) > configuration);
  });

  test('the table has a header, a divider and one row per setting, each naming its flag and variable', () => {
    const lines = formatSettingsMarkdown().split('\n');
    assert.equal(lines[0], '| Flag | Environment | Default | Description |');
    assert.equal(lines[1], '| --- | --- | --- | --- |');
    assert.equal(lines.length, 2 + SETTINGS.length);
    SETTINGS.forEach((s, i) => assert.ok(lines[i + 2]!.startsWith(`| \`${s.flag}\` | \`${s.env}\` |`), lines[i + 2]));
  });

  test('defaults computed from this machine are described, not printed, so the table reads the same everywhere', () => {
    const row = (flag: string) => formatSettingsMarkdown().split('\n').find((l) => l.startsWith(`| \`${flag}\``));
    assert.match(row('--threads') ?? '', /\| core count \|/);
    assert.match(row('--max-loaded-models') ?? '', /\| min\(cores, 8\) \|/);
    assert.match(row('--max-upload') ?? '', /\| `64GiB` \|/);
    assert.match(row('--pull-chunk-size') ?? '', /\| \(adaptive\) \|/);
  });

  test('regenerating replaces only the text between the markers', () => {
    const readme = `# Title\n\nbefore\n${SETTINGS_START}\nold table\n${SETTINGS_END}\nafter\n`;
    assert.equal(withSettingsTable(readme, '| new |'), `# Title\n\nbefore\n${SETTINGS_START}\n| new |\n${SETTINGS_END}\nafter\n`);
  });

  test('regenerating a README without both markers, or with two tables, is refused', () => {
    assert.throws(() => withSettingsTable('# no markers\n'), /needs exactly one/);
    assert.throws(() => withSettingsTable(`${SETTINGS_END}\n${SETTINGS_START}\n`), /needs exactly one/);
    assert.throws(() => withSettingsTable(`${SETTINGS_START}${SETTINGS_END}${SETTINGS_START}${SETTINGS_END}`), /needs exactly one/);
  });
});
