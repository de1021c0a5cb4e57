/**
 * An incremental parser for text/event-stream, as the WHATWG spec defines it: lines end in
 * LF, CRLF or CR (a CRLF may be split across chunks), `data:` lines of one event are joined with
 * LF, a blank line dispatches the event, lines starting with ":" are comments, and one space
 * after the colon is dropped. Chunks must already be decoded text (the caller sets the
 * response encoding, which keeps multi-byte characters whole across chunks).
 */
export interface SseEvent {
  /** The `event:` field; "message" when absent. */
  event: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The `id:` field when present. */
  id?: string;
}

export class SseParser {
  private buffer = '';
  /** True when the previous chunk ended in CR, so a leading LF of the next one is the same line end. */
  private pendingCr = false;
  private dataLines: string[] = [];
  private eventName = '';
  private eventId: string | undefined;

  /** Feeds a chunk and returns the events it completed. */
  push(chunk: string): SseEvent[] {
    if (this.pendingCr && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.pendingCr = false;
    this.buffer += chunk;
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(this.buffer.slice(start, i), events);
      if (c === 13) {
        if (i + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /**
   * Ends the stream. Per the spec an event without its closing blank line is dropped, but a
   * server that closes right after its last `data:` line usually meant it, so it is returned.
   */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    if (this.buffer) this.line(this.buffer, events);
    this.buffer = '';
    this.line('', events);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (this.dataLines.length > 0) {
        const event: SseEvent = { event: this.eventName || 'message', data: this.dataLines.join('\n') };
        if (this.eventId !== undefined) event.id = this.eventId;
        events.push(event);
      }
      this.dataLines = [];
      this.eventName = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.dataLines.push(value);
    else if (field === 'event') this.eventName = value;
    else if (field === 'id') this.eventId = value;
  }
}
