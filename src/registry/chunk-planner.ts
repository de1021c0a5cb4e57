/**
 * Decides how a large blob is cut into ranged requests and how many connections fetch them.
 * Pure: it is told what the file holds and what the first connection measured, and answers.
 *
 * Adaptive (the default): one connection fetches a probe chunk first. Its rate decides the
 * rest. A connection that alone moves `enoughBytesPerSecond` (a nearby registry, a fast link)
 * keeps the download to itself, in large chunks, because more connections then only add CPU
 * work on the same machine. A slower one (a CDN that caps each connection, a long round trip)
 * gets company: as many connections as it takes to reach that rate, up to `maxConnections`.
 * Chunks are then cut as they are taken, each a share of what is left (guided self-scheduling):
 * large while much is left, so requests stay few, and smaller towards the end, so that the
 * connections finish together instead of one fetching a long last chunk alone. A chunk lasts
 * MIN_CHUNK_SECONDS at the measured rate while each connection can still get one that long,
 * and never less than TAIL_CHUNK_SECONDS, so that a request's round trips (connection, TLS,
 * the registry's redirect) stay a small part of its time. In virtual time (see the unit
 * tests), a 1-second floor alone left the last connections idle for up to a second, and no
 * floor at all cut the tail into 1 MiB requests.
 *
 * Fixed (`fixedChunkBytes`): every chunk has that size, as a user tuned it.
 *
 * The plan depends only on what is missing, never on an earlier plan, so a download resumed
 * under another plan (another version, other settings, another measured rate) is cut afresh
 * from the byte ranges its sidecar lists.
 */
import { type ByteRange, missingRanges, totalBytes } from './byte-ranges.js';

/** A connection at least this fast is not helped by company. */
export const DEFAULT_ENOUGH_BYTES_PER_SECOND = 100 * 1000 * 1000;
/** The largest chunk an adaptive plan cuts (a resumed download loses at most one per connection). */
export const DEFAULT_MAX_CHUNK_BYTES = 64 * 1024 * 1024;
/** The first connection's probe chunk is at most this long... */
export const PROBE_CHUNK_BYTES = 16 * 1024 * 1024;
/** ...and about this fraction of the blob, so that a blob of a few MB still leaves work to share. */
export const PROBE_FRACTION = 1 / 8;
/** No chunk is cut shorter than this (except the end of a range). */
export const MIN_CHUNK_BYTES = 1024 * 1024;
/** An adaptive chunk lasts at least this long at the measured rate of one connection, while enough is left... */
export const MIN_CHUNK_SECONDS = 1;
/** ...and never less than this, unless the blob is too small to give each connection a few such chunks. */
export const TAIL_CHUNK_SECONDS = 0.5;
/** What is left is shared as if each connection would take this many more chunks. */
export const CHUNKS_PER_CONNECTION = 2;
/**
 * Blobs from this size up are worth an adaptive chunked download; smaller ones take one request,
 * which a kill leaves as a plain prefix that resumes to the byte (a chunked download resumes only
 * the chunks it finished), and which at 8 MB/s per connection takes two seconds at most.
 */
export const MIN_CHUNKED_BYTES = 16 * 1024 * 1024;

export interface ChunkPlannerOptions {
  /** Bytes in the blob. */
  size: number;
  /** Ranges the partial file already holds. Defaults to none. */
  done?: Iterable<ByteRange>;
  /** Connections the download may use at most. */
  maxConnections: number;
  /** Cut every chunk to this size instead of adapting. Defaults to undefined (adaptive). */
  fixedChunkBytes?: number;
  /** Largest adaptive chunk. Defaults to DEFAULT_MAX_CHUNK_BYTES (64 MiB). */
  maxChunkBytes?: number;
  /** Rate at which one connection is left alone. Defaults to DEFAULT_ENOUGH_BYTES_PER_SECOND (100 MB/s). */
  enoughBytesPerSecond?: number;
}

export class ChunkPlanner {
  /** Ranges no connection has taken yet, in file order. */
  private readonly unassigned: Array<[number, number]>;
  private readonly maxConnections: number;
  private readonly fixedChunkBytes: number | undefined;
  private readonly maxChunkBytes: number;
  private readonly enough: number;
  /** Bytes missing when the download began. */
  private readonly total: number;
  private rate: number | undefined;
  private decided: boolean;
  /** Connections the download should run now. */
  connections: number;

  constructor(options: ChunkPlannerOptions) {
    this.unassigned = missingRanges(options.done ?? [], options.size).map(([s, e]) => [s, e]);
    this.maxConnections = Math.max(1, Math.floor(options.maxConnections));
    this.fixedChunkBytes = options.fixedChunkBytes === undefined ? undefined : Math.max(1, Math.floor(options.fixedChunkBytes));
    this.maxChunkBytes = Math.max(MIN_CHUNK_BYTES, options.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES);
    this.enough = options.enoughBytesPerSecond ?? DEFAULT_ENOUGH_BYTES_PER_SECOND;
    this.total = this.unassignedBytes;
    // Chunks too small to measure a connection by (a tuned client) get every connection at once.
    this.decided = this.maxConnections === 1 || (this.fixedChunkBytes !== undefined && this.fixedChunkBytes < PROBE_CHUNK_BYTES);
    this.connections = this.decided ? this.maxConnections : 1;
  }

  /** Bytes no connection has taken yet. */
  get unassignedBytes(): number {
    return totalBytes(this.unassigned);
  }

  /** Whether the first connection's rate is still awaited (measured() has not been called). */
  get probing(): boolean {
    return !this.decided;
  }

  /** The measured rate of one connection, once known. */
  get bytesPerSecond(): number | undefined {
    return this.rate;
  }

  /** Length of the chunk the first connection is measured by: the probe. */
  probeChunkBytes(): number {
    if (this.fixedChunkBytes !== undefined) return this.fixedChunkBytes;
    const total = this.unassignedBytes;
    return Math.min(PROBE_CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, Math.ceil(total * PROBE_FRACTION)));
  }

  /**
   * Hears what one connection moved per second and decides how many connections run; returns
   * that number. Only the first call counts: the plan does not swing with later noise.
   */
  measured(bytesPerSecond: number): number {
    if (this.decided) return this.connections;
    this.decided = true;
    this.rate = Math.max(1, bytesPerSecond);
    if (this.rate >= this.enough) return (this.connections = 1);
    const wanted = Math.max(2, Math.ceil(this.enough / this.rate));
    // The connection that probed is still busy; each other one should get at least a minimum chunk.
    const useful = 1 + Math.ceil(this.unassignedBytes / MIN_CHUNK_BYTES);
    return (this.connections = Math.min(this.maxConnections, wanted, useful));
  }

  /** The next range to fetch, taken from the front of what is left; undefined when nothing is. */
  next(): ByteRange | undefined {
    const front = this.unassigned[0];
    if (front === undefined) return undefined;
    const length = this.nextLength();
    let end = Math.min(front[1], front[0] + length);
    // A sliver left behind would cost a request of its own for almost nothing.
    if (this.fixedChunkBytes === undefined && front[1] - end < MIN_CHUNK_BYTES / 2) end = front[1];
    const chunk: ByteRange = [front[0], end];
    if (end === front[1]) this.unassigned.shift();
    else front[0] = end;
    return chunk;
  }

  private nextLength(): number {
    if (this.fixedChunkBytes !== undefined) return this.fixedChunkBytes;
    if (!this.decided) return this.probeChunkBytes();
    if (this.connections === 1) return this.maxChunkBytes;
    const left = this.unassignedBytes;
    const share = Math.ceil(left / (this.connections * CHUNKS_PER_CONNECTION));
    const rate = this.rate ?? 0;
    const tail = Math.min(rate * TAIL_CHUNK_SECONDS, this.total / (this.connections * CHUNKS_PER_CONNECTION));
    const floor = Math.max(MIN_CHUNK_BYTES, Math.min(rate * MIN_CHUNK_SECONDS, Math.max(Math.ceil(left / this.connections), tail)));
    // Rates are fractional; a range header is not.
    return Math.ceil(Math.min(this.maxChunkBytes, Math.max(share, floor)));
  }
}
