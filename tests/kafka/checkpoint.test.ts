import { describe, expect, it } from 'vitest';
import { BedCheckpoints, metadataMaxBytesFromEnv } from '../../stream/kafka/checkpoint.js';

const FS = 360;
const config = { rebuildS: 10, sameBeatS: 0.15, idleBedMs: 60_000, maxHoldS: 60, metadataMaxBytes: 4096 };
/** Frames of 1 s at offsets 0.. for one bed on one partition. */
function feed(c: BedCheckpoints, bedId: string, partition: number, seconds: number, firstOffset = 0, nowMs = 0): void {
  for (let s = 0; s < seconds; s++) {
    c.onFrame(partition, String(firstOffset + s), { bedId, firstSample: s * FS, sampleRate: FS }, nowMs);
  }
}

describe('BedCheckpoints', () => {
  it('carries set-aside offsets the next owner would read again, and that owner skips them', () => {
    const c = new BedCheckpoints(config);
    feed(c, 'bed-1', 0, 40);
    c.onPublished('bed-1', 30 * FS + 100);
    c.onRead(0, '40');
    c.onDeadLetter(0, '40'); // a frame the ward set aside, after the rebuild point
    c.onDeadLetter(0, '5'); // one before it: the next owner never reads it anyway
    const commit = c.commit(0, 0)!;
    expect(commit.offset).toBe('20');
    expect(JSON.parse(commit.metadata)).toEqual({ v: 3, beds: { 'bed-1': [30 * FS + 100, 39] }, dead: [40] });
    const next = new BedCheckpoints(config);
    next.inherit(0, commit.metadata);
    expect(next.skips(0, '40')).toBe(true);
    expect(next.skips(0, '39')).toBe(false);
    expect(next.skips(1, '40')).toBe(false);
  });

  it("keeps a bed's rebuild point when one frame claims a first sample far ahead", () => {
    const c = new BedCheckpoints(config);
    feed(c, 'bed-1', 0, 40);
    c.onPublished('bed-1', 30 * FS + 100);
    c.onFrame(0, '40', { bedId: 'bed-1', firstSample: 1e12, sampleRate: FS }, 0); // forged or corrupt
    c.onFrame(0, '41', { bedId: 'bed-1', firstSample: 40 * FS, sampleRate: FS }, 0);
    expect(c.commit(0, 0)!.offset).toBe('20');
  });

  it('commits a rebuild period before the last published beat, with the watermark in the metadata', () => {
    const c = new BedCheckpoints(config);
    feed(c, 'bed-1', 0, 40);
    c.onPublished('bed-1', 30 * FS + 100);
    const commit = c.commit(0, 0)!;
    expect(commit.offset).toBe('20'); // the frame starting 10 s before the beat
    // with the offset of the bed's last frame read, so the next owner knows when it is no longer needed
    expect(JSON.parse(commit.metadata)).toEqual({ v: 3, beds: { 'bed-1': [30 * FS + 100, 39] } });
  });

  it('holds the commit at the first frame of a bed that has published nothing yet', () => {
    const c = new BedCheckpoints(config);
    feed(c, 'bed-1', 0, 40);
    c.onPublished('bed-1', 30 * FS);
    feed(c, 'bed-2', 0, 5, 100);
    expect(c.commit(0, 0)!.offset).toBe('20');
    const alone = new BedCheckpoints(config);
    feed(alone, 'bed-2', 0, 5, 100);
    expect(alone.commit(0, 0)!.offset).toBe('100');
  });

  it('stops holding the partition back for a bed silent longer than idleBedMs', () => {
    const c = new BedCheckpoints(config);
    feed(c, 'bed-1', 0, 40, 0, 0);
    feed(c, 'bed-2', 0, 5, 40, 0);
    c.onFrame(0, '45', { bedId: 'bed-2', firstSample: 5 * FS, sampleRate: FS }, 70_000);
    expect(c.commit(0, 70_000)!.offset).toBe('40'); // bed-1 idle: only bed-2's first frame counts
  });

  it('drops beats regenerated up to the inherited watermark, and lets the next one through', () => {
    const c = new BedCheckpoints(config);
    c.inherit(3, JSON.stringify({ v: 2, beds: { 'bed-1': [5000, 7] } }));
    expect(c.admit('bed-1', 4700, FS)).toBe(false);
    expect(c.admit('bed-1', 5000 + 40, FS)).toBe(false); // the same beat, detected 40 samples later
    expect(c.admit('bed-1', 5300, FS)).toBe(true);
    expect(c.admit('bed-1', 5300, FS)).toBe(false);
    expect(c.admit('bed-2', 10, FS)).toBe(true);
    // an inherited bed keeps its entry while a restart could re-read its frames, seen again or not
    feed(c, 'bed-9', 3, 2, 5);
    expect(JSON.parse(c.commit(3, 0)!.metadata).beds).toEqual({ 'bed-1': [5000, 7] });
    // once the commit has passed its last frame it is dropped
    feed(c, 'bed-9', 3, 20, 8);
    c.onPublished('bed-9', 15 * FS);
    expect(c.commit(3, 0)!.offset).toBe('13');
    expect(JSON.parse(c.commit(3, 0)!.metadata).beds).toEqual({ 'bed-9': [15 * FS, 27] });
  });

  it('drops a regenerated beat that ecg.beats already holds, beyond the commit (a crash between publish and commit)', () => {
    const c = new BedCheckpoints(config);
    c.inherit(0, JSON.stringify({ v: 2, beds: { 'bed-1': [5000, 3] } }));
    c.onPublished('bed-1', 5300); // read from the tail of ecg.beats: published after that commit
    expect(c.admit('bed-1', 5300, FS)).toBe(false);
    expect(c.admit('bed-1', 5600, FS)).toBe(true);
  });

  it('lets through every beat of an uninterrupted stream, however close, and tolerates a shifted one only after a reassignment', () => {
    const c = new BedCheckpoints(config);
    c.reassigned();
    expect(c.admit('bed-1', 1000, FS)).toBe(true);
    // a double detection 64 ms later: the offline front end has it too, so the stream must not drop it
    expect(c.admit('bed-1', 1023, FS)).toBe(true);
    expect(c.admit('bed-1', 1023, FS)).toBe(false);
    c.onPublished('bed-1', 1023);
    c.reassigned(); // a rebalance: the bed is rebuilt from the commit and regenerates its beats
    expect(c.admit('bed-1', 900, FS)).toBe(false);
    expect(c.admit('bed-1', 1023 + 30, FS)).toBe(false); // the last published beat, placed 30 samples later
    expect(c.admit('bed-1', 1400, FS)).toBe(true);
    expect(c.admit('bed-1', 1420, FS)).toBe(true);
  });

  it('ignores metadata it cannot read (another tool committed the group)', () => {
    const c = new BedCheckpoints(config);
    c.inherit(0, 'not json');
    c.inherit(0, JSON.stringify({ v: 2 }));
    // metadata format 1 (one watermark per bed ever seen, without its last frame)
    c.inherit(0, JSON.stringify({ v: 1, watermarks: { 'bed-1': 5000 } }));
    expect(c.admit('bed-1', 0, FS)).toBe(true);
  });

  it("does not let frames numbered below the bed's stream (a producer that started over) hold the commit back", () => {
    const c = new BedCheckpoints(config);
    feed(c, 'bed-1', 0, 120, 0, 0);
    c.onPublished('bed-1', 110 * FS);
    expect(c.commit(0, 0)!.offset).toBe('100');
    // the producer numbers the bed from 0 again, a frame a second for 90 s: the pipeline drops
    // these frames, so they publish nothing, and must not keep the bed's old restart point
    for (let s = 0; s < 90; s++)
      c.onFrame(0, String(120 + s), { bedId: 'bed-1', firstSample: s * FS, sampleRate: FS }, (s + 1) * 1000);
    expect(c.commit(0, 90_000)!.offset).toBe('210');
  });

  it('forgets a bed once the commit has passed its last frame: ids given per admission do not pile up', () => {
    const c = new BedCheckpoints(config);
    // 500 admissions one after another on one partition, 30 s each, then gone
    for (let i = 0; i < 500; i++) {
      const bedId = `admission-${i}`;
      for (let s = 0; s < 30; s++)
        c.onFrame(0, String(i * 30 + s), { bedId, firstSample: s * FS, sampleRate: FS }, (i * 30 + s) * 1000);
      c.onPublished(bedId, 28 * FS);
    }
    const commit = c.commit(0, 500 * 30 * 1000)!;
    // the last two admissions were streaming within idleBedMs (60 s): the earlier one holds the
    // commit 10 s before its last beat, and only they have frames from there on
    expect(commit.offset).toBe(String(498 * 30 + 18));
    expect(Object.keys(JSON.parse(commit.metadata).beds)).toEqual(['admission-498', 'admission-499']);
    expect(commit.metadata.length).toBeLessThan(100);
  });

  it('keeps the metadata within metadataMaxBytes, the beds silent longest first, and says so once', () => {
    const warnings: string[] = [];
    const c = new BedCheckpoints({ ...config, metadataMaxBytes: 300 }, (l) => warnings.push(l));
    // 40 beds interleaved on one partition, bed k's last frame read at k ms
    for (let s = 0; s < 30; s++)
      for (let k = 0; k < 40; k++)
        c.onFrame(0, String(s * 40 + k), { bedId: `bed-${k}`, firstSample: s * FS, sampleRate: FS }, k);
    for (let k = 0; k < 40; k++) c.onPublished(`bed-${k}`, 25 * FS);
    const metadata = c.commit(0, 40)!.metadata;
    expect(Buffer.byteLength(metadata)).toBeLessThanOrEqual(300);
    const kept = Object.keys(JSON.parse(metadata).beds);
    expect(kept.length).toBeGreaterThan(5);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, k) => `bed-${k}`));
    c.commit(0, 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`${kept.length} of 40 beds`);
  });

  it('commits no metadata at all under a budget too small for its format, and says so once', () => {
    const warnings: string[] = [];
    const c = new BedCheckpoints({ ...config, metadataMaxBytes: 10 }, (l) => warnings.push(l));
    feed(c, 'bed-1', 0, 40);
    c.onPublished('bed-1', 30 * FS);
    expect(c.commit(0, 0)).toEqual({ offset: '20', metadata: '' });
    expect(warnings).toEqual([expect.stringContaining('holds the watermarks of 0 of 1 beds (10 bytes')]);
  });
});

describe('KAFKA_OFFSET_METADATA_MAX_BYTES', () => {
  it("is the cluster's limit where set, Kafka's default where not, and refused when not a number of bytes", () => {
    expect(metadataMaxBytesFromEnv({})).toBe(4096);
    expect(metadataMaxBytesFromEnv({ KAFKA_OFFSET_METADATA_MAX_BYTES: '1024' })).toBe(1024);
    expect(metadataMaxBytesFromEnv({ KAFKA_OFFSET_METADATA_MAX_BYTES: '0' })).toBe(0);
    for (const bad of ['4k', '-1', '1.5', ' '])
      expect(() => metadataMaxBytesFromEnv({ KAFKA_OFFSET_METADATA_MAX_BYTES: bad })).toThrow(
        `KAFKA_OFFSET_METADATA_MAX_BYTES must be a whole number of bytes (the cluster's offset.metadata.max.bytes), got "${bad}"`,
      );
  });
});
