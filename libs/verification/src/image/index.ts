export { type RgbaImage, assertRgbaImage, solidImage } from './rgba-image';
export { decodePng, encodePng, ImageDecodeError, MAX_DECODE_PIXELS } from './png';
export { checkPng, pngHeaderSize } from './png-structure';
export {
  intersectRegions,
  cropImage,
  frameRegionOfTile,
  regionContains,
  assertRegion,
  describeRegion,
} from './region';
export { hashPixels } from './hash';
export { fillRegion, type Rgba } from './fill';
