import { nodeFactColumns } from './node-facts';

describe('nodeFactColumns', () => {
  it('reads the render section of the capabilities', () => {
    expect(
      nodeFactColumns({
        blenderVersion: '3.4.1',
        render: { blenderVersion: '3.4.1', device: 'gpu', memoryMb: 8192 },
      }),
    ).toEqual({ blenderNum: 3004, renderDevice: 'gpu', renderMemMb: 8192 });
  });

  it('treats missing or malformed values as unknown', () => {
    expect(nodeFactColumns(undefined)).toEqual({
      blenderNum: null,
      renderDevice: null,
      renderMemMb: null,
    });
    expect(
      nodeFactColumns({ render: { blenderVersion: 'x', device: 'tpu', memoryMb: -5 } }),
    ).toEqual({ blenderNum: null, renderDevice: null, renderMemMb: null });
    expect(nodeFactColumns({ render: { memoryMb: 1.5 } }).renderMemMb).toBeNull();
  });
});
