import { describe, expect, it } from 'vitest';
import { BedCheckpoints } from '../../stream/kafka/checkpoint.js';

const FS = 360;
const config = { rebuildS: 10, sameBeatS: 0.15, idleBedMs: 60_000, maxHoldS: 60 };
/** Frames of 1 s at offsets 0.. for one bed on one partition. */
function feed(c: BedCheckpoints, bedId: string, partition: number, seconds: number, firstOffset = 0, nowMs = 0): void {
  for (let s = 0; s < seconds; s++) {
    c.onFrame(partition, String(firstOffset + s), { bedId, firstSample: s * FS, sampleRate: FS }, nowMs);
  }
}

describe('BedCheckpoints', () => {
  it('commits a rebuild period before the last published beat, with the watermark in the metadata', () => {
    const c = new BedCheckpoints(config);
    feed(c, 'bed-1', 0, 40);
    c.onPublished('bed-1', 30 * FS + 100);
    const commit = c.commit(0, 0)!;
    expect(commit.offset).toBe('20'); // the frame starting 10 s before the beat
    expect(JSON.parse(commit.metadata)).toEqual({ v: 1, watermarks: { 'bed-1': 30 * FS + 100 } });
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
    c.inherit(3, JSON.stringify({ v: 1, watermarks: { 'bed-1': 5000 } }));
    expect(c.admit('bed-1', 4700, FS)).toBe(false);
    expect(c.admit('bed-1', 5000 + 40, FS)).toBe(false); // the same beat, detected 40 samples later
    expect(c.admit('bed-1', 5300, FS)).toBe(true);
    expect(c.admit('bed-1', 5300, FS)).toBe(false);
    expect(c.admit('bed-2', 10, FS)).toBe(true);
    // inherited beds keep their watermark in the partition's next commit until seen again
    feed(c, 'bed-9', 3, 2);
    expect(JSON.parse(c.commit(3, 0)!.metadata).watermarks).toEqual({ 'bed-1': 5000 });
  });

  it('drops a regenerated beat that ecg.beats already holds, beyond the commit (a crash between publish and commit)', () => {
    const c = new BedCheckpoints(config);
    c.inherit(0, JSON.stringify({ v: 1, watermarks: { 'bed-1': 5000 } }));
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
    expect(c.admit('bed-1', 0, FS)).toBe(true);
  });
});
