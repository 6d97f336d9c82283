import { parseNvidiaSmiMemory, selectRenderSlots, withMemory } from './render-slots';

const cpu = { type: 'CPU', name: 'CPU', id: 'CPU' };
const cuda0 = { type: 'CUDA', name: 'RTX 3090', id: 'CUDA_RTX 3090_0000:01:00' };
const cuda1 = { type: 'CUDA', name: 'RTX 3060', id: 'CUDA_RTX 3060_0000:02:00' };
const optix0 = { type: 'OPTIX', name: 'RTX 3090', id: 'CUDA_RTX 3090_0000:01:00_OptiX' };
const optix1 = { type: 'OPTIX', name: 'RTX 3060', id: 'CUDA_RTX 3060_0000:02:00_OptiX' };
const gpuBox = [cuda0, cuda1, optix0, optix1, cpu];

describe('selectRenderSlots', () => {
  it('renders on the CPU with one slot when asked, whatever GPUs exist', () => {
    expect(selectRenderSlots('cpu', gpuBox)).toEqual([{ id: 'cpu', backend: 'CPU', name: 'CPU' }]);
    expect(selectRenderSlots(' CPU ', [cpu])).toHaveLength(1);
  });

  it('"gpu" takes every device of the best backend, one slot (worker) per GPU', () => {
    const slots = selectRenderSlots('gpu', gpuBox);
    expect(slots.map((s) => [s.id, s.backend, s.deviceId])).toEqual([
      ['optix:0', 'OPTIX', optix0.id],
      ['optix:1', 'OPTIX', optix1.id],
    ]);
    expect(selectRenderSlots('gpu', [cuda0, cpu]).map((s) => s.id)).toEqual(['cuda:0']);
  });

  it('pins chosen devices of one backend by index', () => {
    expect(selectRenderSlots('cuda:1', gpuBox).map((s) => [s.id, s.deviceId])).toEqual([
      ['cuda:1', cuda1.id],
    ]);
    expect(selectRenderSlots('optix:1,0,1', gpuBox).map((s) => s.id)).toEqual([
      'optix:1',
      'optix:0',
    ]);
  });

  it('says clearly what cannot be chosen', () => {
    expect(() => selectRenderSlots('gpu', [cpu])).toThrow('Blender sees no GPU');
    expect(() => selectRenderSlots('hip', gpuBox)).toThrow('Blender sees no HIP device');
    expect(() => selectRenderSlots('cuda:2', gpuBox)).toThrow(
      'CUDA device 2 does not exist (Blender sees 2: 0..1)',
    );
    expect(() => selectRenderSlots('tpu', gpuBox)).toThrow('unknown device backend "tpu"');
    expect(() => selectRenderSlots('cuda:x', gpuBox)).toThrow('is not cpu, gpu');
  });
});

describe('GPU memory from nvidia-smi', () => {
  it('maps PCI buses to MiB and attaches them to Cycles devices', () => {
    const byBus = parseNvidiaSmiMemory('00000000:01:00.0, 24576\n00000000:02:00.0, 12288\nbad\n');
    expect([...byBus]).toEqual([
      ['0000:01:00', 24576],
      ['0000:02:00', 12288],
    ]);
    const devices = withMemory([cuda0, optix1, cpu], byBus);
    expect(devices.map((d) => d.memoryMb)).toEqual([24576, 12288, undefined]);
    expect(selectRenderSlots('optix', devices)[0].memoryMb).toBe(12288);
  });
});
