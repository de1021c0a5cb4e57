import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { escapeHtml, formatProgressLine } from '../../../src/http/common/progress-stream.js';
import { type ProgressEvent, TransferProgress } from '../../../src/models/progress.js';

describe('progress lines as Docker Model Runner writes them', () => {
  test('HTML escaping replaces exactly the five characters Go escapes, with Go spellings', () => {
    assert.equal(escapeHtml(`a"b'c<d>e&f`), 'a&#34;b&#39;c&lt;d&gt;e&amp;f');
    assert.equal(escapeHtml('plain text: 12.34 MB / é'), 'plain text: 12.34 MB / é');
  });

  test('a text/plain progress line is escaped JSON ending in a newline, and a JSON line is not escaped', () => {
    const event: ProgressEvent = { type: 'success', message: 'Model pulled successfully', mode: 'pull' };
    assert.equal(formatProgressLine(event, false), '{&#34;type&#34;:&#34;success&#34;,&#34;message&#34;:&#34;Model pulled successfully&#34;,&#34;mode&#34;:&#34;pull&#34;}\n');
    assert.equal(formatProgressLine(event, true), '{"type":"success","message":"Model pulled successfully","mode":"pull"}\n');
  });
});

describe('per-layer progress throttling', () => {
  function harness() {
    let now = 0;
    const events: ProgressEvent[] = [];
    const progress = new TransferProgress({ mode: 'pull', total: 3 << 20, emit: (e) => events.push(e), now: () => now });
    progress.addLayer('sha256:a', 2 << 20);
    progress.addLayer('sha256:b', 1 << 20);
    return { progress, events, advance: (ms: number) => (now += ms) };
  }

  test('updates within 100 ms and under 1 MiB are coalesced; the first one is reported', () => {
    const { progress, events, advance } = harness();
    progress.update('sha256:a', 1000);
    advance(10);
    progress.update('sha256:a', 2000);
    advance(10);
    progress.update('sha256:a', 3000);
    assert.equal(events.length, 1);
    advance(100);
    progress.update('sha256:a', 4000);
    assert.equal(events.length, 2);
    assert.deepEqual(events[1]!.layer, { id: 'sha256:a', size: 2 << 20, current: 4000 });
  });

  test('a whole MiB is reported even inside the 100 ms interval', () => {
    const { progress, events } = harness();
    progress.update('sha256:a', 10);
    progress.update('sha256:a', 10 + (1 << 20));
    assert.equal(events.length, 2);
  });

  test('completion is always reported once, with the message counting every layer', () => {
    const { progress, events } = harness();
    progress.update('sha256:b', 100);
    progress.complete('sha256:a');
    progress.complete('sha256:a');
    assert.equal(events.length, 2);
    const last = events[1]!;
    assert.equal(last.type, 'progress');
    assert.equal(last.mode, 'pull');
    assert.equal(last.total, 3 << 20);
    assert.deepEqual(last.layer, { id: 'sha256:a', size: 2 << 20, current: 2 << 20 });
    assert.equal(last.message, `Downloaded: ${(((2 << 20) + 100) / 1e6).toFixed(2)} MB`);
  });

  test('a push reports Uploaded instead of Downloaded', () => {
    const events: ProgressEvent[] = [];
    const progress = new TransferProgress({ mode: 'push', total: 5, emit: (e) => events.push(e) });
    progress.addLayer('sha256:c', 5);
    progress.complete('sha256:c');
    assert.equal(events[0]!.message, 'Uploaded: 0.00 MB');
    assert.equal(events[0]!.mode, 'push');
  });
});
