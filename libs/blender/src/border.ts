// Pixel regions (top-left origin, the image convention used everywhere in Tessera) versus
// Blender's render border (normalised 0..1, bottom-left origin).
//
// blender-scripts/tile_worker.py does this same conversion in Python; keep the two in step.

/** A pixel rectangle, top-left origin. */
export interface PixelRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Resolution {
  width: number;
  height: number;
}

/** Blender's `render.border_min_x` ... values. */
export interface RenderBorder {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

/**
 * Normalised border coordinate that Blender maps back to exactly `pixel`.
 *
 * Blender (render_init_from_main) and Cycles (get_buffer_params) both compute
 * `(int)(border * size)` in float32, truncating. Aiming at the centre of the pixel makes the
 * truncation land on `pixel` whatever the rounding; the frame edges are exactly 0 and 1.
 */
export function borderEdge(pixel: number, size: number): number {
  if (pixel <= 0) return 0;
  if (pixel >= size) return 1;
  return (pixel + 0.5) / size;
}

export function assertRegionInFrame(region: PixelRegion, frame: Resolution): void {
  const { x, y, width, height } = region;
  const ints = [x, y, width, height].every(Number.isInteger);
  if (!ints || x < 0 || y < 0 || width < 1 || height < 1) {
    throw new RangeError(`invalid region ${JSON.stringify(region)}`);
  }
  if (x + width > frame.width || y + height > frame.height) {
    throw new RangeError(
      `region ${width}x${height}+${x}+${y} is outside the ${frame.width}x${frame.height} frame`,
    );
  }
}

export function pixelRegionToBorder(region: PixelRegion, frame: Resolution): RenderBorder {
  assertRegionInFrame(region, frame);
  const bottom = frame.height - (region.y + region.height); // flip to bottom-left origin
  return {
    minX: borderEdge(region.x, frame.width),
    maxX: borderEdge(region.x + region.width, frame.width),
    minY: borderEdge(bottom, frame.height),
    maxY: borderEdge(bottom + region.height, frame.height),
  };
}

/**
 * The pixels Blender renders for a border: float32 storage, float32 multiply, truncation, as in
 * Blender's C code. Used to prove pixelRegionToBorder round-trips.
 */
export function borderToPixelRegion(border: RenderBorder, frame: Resolution): PixelRegion {
  const f = Math.fround;
  const px = (v: number, size: number) => Math.trunc(f(f(v) * f(size)));
  const xmin = px(border.minX, frame.width);
  const xmax = px(border.maxX, frame.width);
  const ymin = px(border.minY, frame.height);
  const ymax = px(border.maxY, frame.height);
  return { x: xmin, y: frame.height - ymax, width: xmax - xmin, height: ymax - ymin };
}
