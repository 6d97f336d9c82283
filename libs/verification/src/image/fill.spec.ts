import { fillRegion } from './fill';
import { solidImage } from './rgba-image';

describe('fillRegion', () => {
  const img = solidImage(4, 4, [10, 20, 30, 255]);
  img.data[0] = 50; // one brighter red pixel inside the rect below

  it('fills only the rect, on a copy', () => {
    const out = fillRegion(img, { x: 0, y: 0, width: 2, height: 2 }, [255, 0, 255, 255]);
    expect([...out.data.subarray(0, 4)]).toEqual([255, 0, 255, 255]);
    expect([...out.data.subarray(8, 12)]).toEqual([10, 20, 30, 255]);
    expect(img.data[0]).toBe(50);
  });

  it('fills with the rect own mean colour', () => {
    const out = fillRegion(img, { x: 0, y: 0, width: 2, height: 2 }, 'mean');
    expect([...out.data.subarray(20, 24)]).toEqual([20, 20, 30, 255]);
  });
});
