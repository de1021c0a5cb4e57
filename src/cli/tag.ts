import { connect, parseCommandArgs, usageError } from './client/args.js';
import { modelPath } from './client/client.js';

const USAGE = `Usage: model-runner tag SOURCE TARGET

Gives the model SOURCE (a name or ID) the additional name TARGET (REPOSITORY[:TAG]; the tag
defaults to latest).
`;

/** Splits "repo[:tag]" where the tag separator is a colon after the last slash (a registry port is not a tag). */
export function splitTarget(target: string): { repo: string; tag: string } {
  const trimmed = target.trim();
  const slash = trimmed.lastIndexOf('/');
  const colon = trimmed.lastIndexOf(':');
  if (colon > slash) return { repo: trimmed.slice(0, colon), tag: trimmed.slice(colon + 1) || 'latest' };
  return { repo: trimmed, tag: 'latest' };
}

/** `tag SOURCE TARGET`: POST /models/{source}/tag?repo=&tag=. */
export async function tagCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, {}, USAGE);
  if (!args) return;
  if (args.positionals.length !== 2) throw usageError('tag needs SOURCE and TARGET', USAGE);
  const [source, target] = args.positionals as [string, string];
  const { repo, tag } = splitTarget(target);
  if (repo === '') throw usageError(`invalid TARGET ${JSON.stringify(target)}`, USAGE);
  const answer = await connect(args.values).json<{ message?: string }>(modelPath(source, '/tag'), { method: 'POST', query: { repo, tag } });
  process.stdout.write(`${answer?.message ?? `Model tagged successfully with "${repo}:${tag}"`}\n`);
}
