/**
 * Docker-style push progress events -> Ollama's push statuses:
 *   {"status":"retrieving manifest"}
 *   {"status":"pushing <12 hex>","digest","total","completed"}   per layer, repeated
 *   {"status":"pushing manifest"}, {"status":"success"}
 * The catalog pushes the manifest last and reports success once the registry took it, so the last
 * two follow the push's end.
 */
import type { ProgressEvent } from '../models/index.js';
import { type OllamaStatus, shortDigest } from './status.js';

export class PushStatusMapper {
  private started = false;

  /** Statuses for one catalog event; only layer progress has an Ollama spelling. */
  map(event: ProgressEvent): OllamaStatus[] {
    const out = this.opening();
    if (event.type === 'progress' && event.layer) {
      const { id, size, current } = event.layer;
      out.push({ status: `pushing ${shortDigest(id)}`, digest: id, total: size, completed: current });
    }
    return out;
  }

  /** The closing statuses of a push that ended well. */
  finish(): OllamaStatus[] {
    return [...this.opening(), { status: 'pushing manifest' }, { status: 'success' }];
  }

  private opening(): OllamaStatus[] {
    if (this.started) return [];
    this.started = true;
    return [{ status: 'retrieving manifest' }];
  }
}
