import { parsePeakMemoryMb, parseRenderProgress } from './render-progress';

describe('parseRenderProgress', () => {
  it('reads Cycles sample lines', () => {
    expect(
      parseRenderProgress(
        'Fra:1 Mem:12.36M (Peak 15.02M) | Time:00:00.51 | Mem:1.05M, Peak:1.05M | Scene, ViewLayer | Sample 8/32',
      ),
    ).toBe(0.25);
    expect(parseRenderProgress('Fra:3 | Rendering 64 / 64 samples')).toBe(1);
  });

  it('ignores other lines', () => {
    expect(
      parseRenderProgress('Fra:1 Mem:12.36M | Scene, ViewLayer | Synchronizing object'),
    ).toBeNull();
    expect(parseRenderProgress('Sample 3/0')).toBeNull();
  });
});

describe('parsePeakMemoryMb', () => {
  it('reads the peak in MiB', () => {
    expect(parsePeakMemoryMb('Fra:1 Mem:12.36M (Peak 15.02M) | Time')).toBe(15);
    expect(parsePeakMemoryMb('Mem:1.05M, Peak:1.5G')).toBe(1536);
    expect(parsePeakMemoryMb('nothing here')).toBeNull();
  });
});
