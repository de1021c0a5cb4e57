/**
 * Resident memory with the model loaded, ours against llama-server's, measured twice:
 *
 * - at matched settings: the servers the rounds ran on (same threads, sequences and per-sequence
 *   context), read after the rounds, when both have served the same requests;
 * - at each server's defaults, as a user starts it (only the model and an address): a fresh
 *   server of each, one short chat to load the model, then the reading.
 *
 * The reading covers the server's process and its descendants (process.ts), so helpers a server
 * keeps count against it.
 */
import { streamChatCompletion } from '../http-client.js';
import { processTreeRssBytes } from './process.js';
import { startLlamaServer, startModelRunner, type ModelRunnerOptions, type RunningServer, type ServerSettings } from './servers.js';

const CHAT = { messages: [{ role: 'user', content: 'Hello! Say something short.' }], max_tokens: 8, temperature: 0 };

/** One pair of readings, in bytes. */
export interface MemoryReading {
  oursBytes?: number;
  peerBytes?: number;
  /** The command lines, for the report: at defaults they are the point. */
  oursCommand?: string;
  peerCommand?: string;
}

export interface MemoryResult {
  matched?: MemoryReading;
  defaults?: MemoryReading;
  error?: string;
}

/** Reads both running servers (matched settings), then starts each at its defaults and reads it. */
export async function measureMemory(
  binary: string,
  settings: ServerSettings,
  running: { ours: RunningServer; peer: RunningServer },
  ours: ModelRunnerOptions,
  log: (line: string) => void,
): Promise<MemoryResult> {
  const result: MemoryResult = {};
  try {
    result.matched = { oursBytes: await processTreeRssBytes(running.ours.pid), peerBytes: await processTreeRssBytes(running.peer.pid) };
    const atDefaults: ServerSettings = { ...settings, atDefaults: true, label: `${settings.label}-defaults` };
    const peer = await readAfterOneChat(() => startLlamaServer(binary, atDefaults, 'llama-server-defaults'));
    const mine = await readAfterOneChat(() => startModelRunner(ours, atDefaults));
    result.defaults = { peerBytes: peer.bytes, peerCommand: peer.command, oursBytes: mine.bytes, oursCommand: mine.command };
    log(`RSS at defaults: llama-server ${mib(peer.bytes)}, ours ${mib(mine.bytes)}`);
  } catch (err) {
    result.error = (err as Error).message;
  }
  return result;
}

async function readAfterOneChat(start: () => Promise<RunningServer>): Promise<{ bytes?: number; command: string }> {
  const server = await start();
  try {
    const outcome = await streamChatCompletion(server.endpoint, { model: server.model, ...CHAT });
    if (!outcome.ok) throw new Error(`the chat that loads the model failed: ${outcome.error ?? `status ${outcome.status}`}`);
    return { bytes: await processTreeRssBytes(server.pid), command: server.command };
  } finally {
    await server.stop();
  }
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? '?' : `${Math.round(bytes / 2 ** 20)} MiB`;
}
