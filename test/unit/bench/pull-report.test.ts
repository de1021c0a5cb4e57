import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PullSample } from '../../../scripts/bench-pull/pullers.js';
import { formatTable, summarize } from '../../../scripts/bench-pull/report.js';

const sample = (side: PullSample['side'], seconds: number, cpuSeconds?: number): PullSample => ({ side, seconds, mbPerSecond: 500 / seconds, processSeconds: seconds, cpuSeconds });

describe('the pull benchmark report', () => {
  test('ours is set against curl alone and against curl followed by an fsync, by their medians', () => {
    const samples = [
      sample('ours', 0.5, 0.6), sample('ours', 1, 0.9), sample('ours', 0.625, 0.7),
      sample('skopeo', 2.5), sample('curl', 0.5), sample('curl', 0.4), sample('curl', 0.45),
      sample('curl-fsync', 1), sample('curl-fsync', 0.8), sample('curl-fsync', 1.25),
    ];
    const result = summarize('direct', 'a 500 MB layer', 500e6, 2, samples);
    assert.equal(result.oursMedianMBps, 800);
    assert.equal(result.curlRatio, 800 / (500 / 0.45));
    assert.equal(result.curlFsyncMedianMBps, 500);
    assert.equal(result.curlFsyncRatio, 1.6);
    assert.equal(result.oursMedianCpuSeconds, 0.7);
    const table = formatTable([result], 3);
    assert.match(table, /ours \/ \(curl \+ fsync\) \*\*1\.60x\*\*/);
    assert.match(table, /used 0\.70 s of CPU per pull/);
  });

  test("ours is set against curl with the stream hashed on the way, and that download against curl alone", () => {
    const samples = [sample('ours', 1), sample('skopeo', 2.5), sample('curl', 0.5), sample('curl-verify', 0.8), sample('curl-verify', 0.625), sample('curl-verify', 1)];
    const result = summarize('direct', 'a 500 MB layer', 500e6, 2, samples);
    assert.equal(result.curlVerifyMedianMBps, 625);
    assert.equal(result.curlVerifyOfCurl, 0.625);
    assert.equal(result.curlVerifyRatio, 0.8);
    assert.match(formatTable([result], 3), /625 MB\/s \(625 \/ 800 \/ 500\), itself 0\.63x curl alone; ours \/ that \*\*0\.80x\*\*/);
  });

  test("ours is set against the disk's own pace, and so is curl's pace without an fsync", () => {
    const samples = [sample('ours', 1), sample('skopeo', 2.5), sample('curl', 0.5), sample('disk', 0.8), sample('disk', 0.625), sample('disk', 1.25)];
    const result = summarize('direct', 'a 500 MB layer', 500e6, 2, samples);
    assert.equal(result.diskMedianMBps, 625);
    assert.equal(result.diskRatio, 0.8);
    assert.match(formatTable([result], 3), /625 MB\/s \(625 \/ 800 \/ 400\); ours \/ disk \*\*0\.80x\*\*; curl's pace without the fsync is 1\.60x that\./);
  });

  test('a scenario without curl runs reports no curl ratios', () => {
    const result = summarize('cdn-144mb', 'capped', 144e6, 3, [sample('ours', 1), sample('skopeo', 10)]);
    assert.equal(result.curlRatio, undefined);
    assert.equal(result.curlFsyncRatio, undefined);
    assert.equal(result.curlVerifyRatio, undefined);
    assert.equal(result.diskRatio, undefined);
    assert.doesNotMatch(formatTable([result], 1), /curl|disk/);
  });
});
