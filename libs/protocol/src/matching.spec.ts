import { blenderVersionNumber, nodeSatisfiesJob, NodeRenderFacts } from './index';

const cpuNode: NodeRenderFacts = { blenderVersion: '3.4.1', device: 'cpu', memoryMb: 16_000 };
const gpuNode: NodeRenderFacts = { blenderVersion: '4.2.0', device: 'gpu', memoryMb: 8_192 };

describe('blenderVersionNumber', () => {
  it('orders minor versions numerically, not as text', () => {
    expect(blenderVersionNumber('3.10')).toBeGreaterThan(blenderVersionNumber('3.4'));
    expect(blenderVersionNumber('4.0')).toBeGreaterThan(blenderVersionNumber('3.99'));
  });
  it('ignores the patch level', () => {
    expect(blenderVersionNumber('3.4.1')).toBe(blenderVersionNumber('3.4'));
  });
  it('refuses what is not a version', () => {
    expect(() => blenderVersionNumber('3')).toThrow(RangeError);
    expect(() => blenderVersionNumber('latest')).toThrow(RangeError);
  });
});

describe('nodeSatisfiesJob', () => {
  it('gives a job without requirements to any node, even one with unknown facts', () => {
    expect(nodeSatisfiesJob(null, {})).toBe(true);
    expect(nodeSatisfiesJob(cpuNode, { device: 'any' })).toBe(true);
  });
  it('gives a job with requirements only to nodes whose facts are known', () => {
    expect(nodeSatisfiesJob(null, { device: 'cpu' })).toBe(false);
    expect(nodeSatisfiesJob(undefined, { minVramMb: 1 })).toBe(false);
  });
  it('matches the device kind', () => {
    expect(nodeSatisfiesJob(cpuNode, { device: 'gpu' })).toBe(false);
    expect(nodeSatisfiesJob(gpuNode, { device: 'gpu' })).toBe(true);
    expect(nodeSatisfiesJob(gpuNode, { device: 'cpu' })).toBe(false);
    expect(nodeSatisfiesJob(cpuNode, { device: 'cpu' })).toBe(true);
  });
  it('needs at least the requested device memory (inclusive)', () => {
    expect(nodeSatisfiesJob(gpuNode, { minVramMb: 8_192 })).toBe(true);
    expect(nodeSatisfiesJob(gpuNode, { minVramMb: 8_193 })).toBe(false);
    expect(nodeSatisfiesJob(gpuNode, { minVramMb: 12_000, device: 'gpu' })).toBe(false);
  });
  it('needs at least the requested Blender version', () => {
    expect(nodeSatisfiesJob(cpuNode, { minBlenderVersion: '3.4' })).toBe(true);
    expect(nodeSatisfiesJob(cpuNode, { minBlenderVersion: '3.5' })).toBe(false);
    expect(nodeSatisfiesJob(gpuNode, { minBlenderVersion: '3.6' })).toBe(true);
    expect(
      nodeSatisfiesJob({ ...cpuNode, blenderVersion: 'unknown' }, { minBlenderVersion: '2.8' }),
    ).toBe(false);
  });
});
