/**
 * Docker-style pull progress events -> Ollama's pull statuses:
 *   {"status":"pulling manifest"}
 *   {"status":"pulling <12 hex>","digest","total","completed"}   per layer, repeated
 *   {"status":"verifying sha256 digest"}, {"status":"writing manifest"}, {"status":"success"}
 * The catalog verifies every blob as it lands and writes the manifest before it reports success,
 * so the last three follow its success event (or the pull's end, should no event say so).
 */
import type { ProgressEvent } from '../models/index.js';
import { type OllamaStatus, shortDigest } from './status.js';

export { shortDigest };
export type OllamaPullStatus = OllamaStatus;

export const FINISHING_STATUSES: readonly OllamaPullStatus[] = [
  { status: 'verifying sha256 digest' },
  { status: 'writing manifest' },
  { status: 'success' },
];

/** One pull's translation; it remembers what it said so that the opening and the end appear once. */
export class PullStatusMapper {
  private started = false;
  private finished = false;

  /**
   * Statuses for one catalog event. Warnings have no Ollama spelling, and a failed pull rejects
   * its promise (which the caller renders as {"error"}), so neither produces a status here.
   */
  map(event: ProgressEvent): OllamaPullStatus[] {
    if (this.finished) return [];
    const out = this.opening();
    if (event.type === 'progress' && event.layer) {
      const { id, size, current } = event.layer;
      out.push({ status: `pulling ${shortDigest(id)}`, digest: id, total: size, completed: current });
    } else if (event.type === 'success') {
      out.push(...this.finish());
    }
    return out;
  }

  /** "pulling manifest", the first time only. */
  opening(): OllamaPullStatus[] {
    if (this.started) return [];
    this.started = true;
    return [{ status: 'pulling manifest' }];
  }

  /** The closing statuses, once, for a pull that ended well. */
  finish(): OllamaPullStatus[] {
    if (this.finished) return [];
    this.finished = true;
    return [...this.opening(), ...FINISHING_STATUSES.map((s) => ({ ...s }))];
  }
}
