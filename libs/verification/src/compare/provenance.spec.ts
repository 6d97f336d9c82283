import { chooseMode } from './provenance';

describe('chooseMode', () => {
  const cpu = { blenderVersion: '3.4.1', deviceClass: 'CPU' };

  it('is exact for the same Blender build and device class', () => {
    expect(chooseMode(cpu, { ...cpu })).toBe('exact');
    expect(chooseMode(cpu, { blenderVersion: ' 3.4.1 ', deviceClass: 'cpu' })).toBe('exact');
    const optix = { blenderVersion: '4.2.0 (hash a1b2c3)', deviceClass: 'OPTIX' };
    expect(chooseMode(optix, { ...optix })).toBe('exact');
  });

  it('is perceptual across device classes, CPU kernels or Blender versions', () => {
    expect(chooseMode(cpu, { ...cpu, deviceClass: 'CUDA' })).toBe('perceptual');
    expect(
      chooseMode({ ...cpu, deviceClass: 'CPU-AVX2' }, { ...cpu, deviceClass: 'CPU-SSE41' }),
    ).toBe('perceptual');
    expect(chooseMode(cpu, { ...cpu, blenderVersion: '3.4.0' })).toBe('perceptual');
  });

  it('is perceptual when provenance is unknown', () => {
    expect(
      chooseMode({ blenderVersion: '', deviceClass: '' }, { blenderVersion: '', deviceClass: '' }),
    ).toBe('perceptual');
    expect(chooseMode(cpu, { ...cpu, deviceClass: ' ' })).toBe('perceptual');
  });
});
