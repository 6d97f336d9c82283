// @tessera/blender: everything that runs Blender, for the coordinator (upload checks, scene
// inspection) and the render-node agent (persistent tile worker).
export { BlendFileError, type BlendFileErrorCode } from './blend-file-error';
export { type BlendFileHeader, versionName } from './blend-blocks';
export {
  validateBlendHeader,
  validateBlendFile,
  detectCompression,
  type BlendCheckResult,
  type BlendCheckOptions,
  type BlendCompression,
} from './blend-header';
export {
  pixelRegionToBorder,
  borderToPixelRegion,
  borderEdge,
  assertRegionInFrame,
  type PixelRegion,
  type Resolution,
  type RenderBorder,
} from './border';
export {
  safeBlenderCommand,
  blenderScriptPath,
  defaultScriptsDir,
  DEFAULT_BLENDER,
  type BlenderRunOptions,
  type BlenderCommand,
  type BlenderCommandInput,
} from './blender-command';
export { type OutputStream } from './blender-process';
export { type SceneInfo, type MissingFile, type CyclesInfo, sceneInfoSchema } from './scene-info';
export {
  inspectScene,
  SceneInspectionError,
  type SceneInspectionErrorCode,
  type InspectOptions,
} from './scene-inspector';
export {
  BlenderTileWorker,
  SpareTileWorker,
  TileWorkerError,
  type TileWorkerErrorCode,
  type TileWorkerOptions,
  type TileWorkerInfo,
  type TileRenderRequest,
  type TileRenderResult,
  type LogListener,
} from './tile-worker';
export {
  probeBlenderDevices,
  BlenderUnavailableError,
  type BlenderDevice,
  type BlenderDeviceReport,
} from './device-probe';
export { makeTestScene, type TestSceneOptions } from './test-scene';
