// Inspect an untrusted .blend with Blender itself (autoexec off, sandboxed, time-limited).
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { validateBlendFile } from './blend-header';
import { BlendFileError } from './blend-file-error';
import { BlenderRunOptions, DEFAULT_BLENDER } from './blender-command';
import { BlenderProcess, describeExit, OutputStream } from './blender-process';
import { ProtocolMessage } from './marker';
import { SceneInfo, sceneInfoSchema } from './scene-info';

export type SceneInspectionErrorCode =
  | 'NOT_FOUND'
  | 'EMPTY'
  | 'NOT_A_BLEND'
  | 'TRUNCATED'
  | 'CORRUPT'
  | 'NO_SCENE'
  | 'NO_CAMERA'
  | 'TIMEOUT'
  | 'MEMORY_LIMIT'
  | 'BLENDER_NOT_FOUND'
  | 'BLENDER_FAILED';

/** Why a scene cannot be accepted; `message` is written for the person who uploaded it. */
export class SceneInspectionError extends Error {
  override readonly name = 'SceneInspectionError';

  constructor(
    readonly code: SceneInspectionErrorCode,
    message: string,
    /** Blender's last output lines, for operators' logs (may contain server paths) */
    readonly detail?: string,
    /** what was learnt before the rejection (NO_CAMERA) */
    readonly sceneInfo?: SceneInfo,
  ) {
    super(message);
  }
}

export interface InspectOptions extends BlenderRunOptions {
  /** kill Blender (and its process group) after this long; default 60 s */
  timeoutMs?: number;
  /** scene to inspect; default the file's active scene */
  scene?: string;
  /** reject a scene without an active camera (default true) */
  requireCamera?: boolean;
  /** run the pure-TS structural check first (default true): cheap, and clearer about truncation */
  checkStructure?: boolean;
  onLog?: (line: string, stream: OutputStream) => void;
}

const DEFAULT_TIMEOUT_MS = 60_000;

export async function inspectScene(
  blendPath: string,
  opts: InspectOptions = {},
): Promise<SceneInfo> {
  const path = resolve(blendPath);
  const name = basename(path);
  await checkFile(path, name, opts.checkStructure !== false);

  const reply: { message: ProtocolMessage | null } = { message: null };
  const proc = await BlenderProcess.spawn({
    ...opts,
    script: 'inspect_scene.py',
    scriptArgs: ['--blend', path, ...(opts.scene !== undefined ? ['--scene', opts.scene] : [])],
    onMessage: (m) => (reply.message ??= m),
  });
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timer = setTimeout(() => proc.kill('timeout'), timeoutMs);
  const exit = await proc.exited;
  clearTimeout(timer);

  if (proc.killReason === 'timeout') {
    throw new SceneInspectionError(
      'TIMEOUT',
      `scene inspection timed out after ${timeoutMs} ms`,
      proc.outputTail(),
    );
  }
  if (proc.killReason === 'memory') {
    throw new SceneInspectionError(
      'MEMORY_LIMIT',
      `scene inspection exceeded the memory limit of ${opts.maxRssBytes} bytes`,
      proc.outputTail(),
    );
  }
  if (exit.spawnError) {
    const bin = opts.blenderPath ?? DEFAULT_BLENDER;
    throw new SceneInspectionError(
      exit.spawnError.code === 'ENOENT' ? 'BLENDER_NOT_FOUND' : 'BLENDER_FAILED',
      `cannot run Blender (${bin}): ${exit.spawnError.message}`,
    );
  }
  const message = reply.message;
  if (message === null) {
    throw new SceneInspectionError(
      'BLENDER_FAILED',
      `Blender ${describeExit(exit)} without reporting on the scene`,
      proc.outputTail(),
    );
  }
  if (message.ok !== true) {
    throw classifyFailure(String(message.error ?? 'unknown error'), path, name, proc.outputTail());
  }
  const parsed = sceneInfoSchema.safeParse(message);
  if (!parsed.success) {
    throw new SceneInspectionError(
      'BLENDER_FAILED',
      `unexpected inspection output: ${parsed.error.message}`,
      JSON.stringify(message),
    );
  }
  const info = parsed.data;
  if (!info.hasCamera && opts.requireCamera !== false) {
    throw new SceneInspectionError(
      'NO_CAMERA',
      `scene "${info.scene}" has no active camera, so there is nothing to render`,
      undefined,
      info,
    );
  }
  return info;
}

async function checkFile(path: string, name: string, structure: boolean): Promise<void> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new SceneInspectionError('NOT_FOUND', `${name} is not a file`);
  } catch (e) {
    if (e instanceof SceneInspectionError) throw e;
    throw new SceneInspectionError('NOT_FOUND', `file not found: ${name}`);
  }
  if (!structure) return;
  try {
    await validateBlendFile(path);
  } catch (e) {
    if (!(e instanceof BlendFileError)) throw e;
    const code = (
      {
        EMPTY: 'EMPTY',
        NOT_BLEND: 'NOT_A_BLEND',
        TRUNCATED: 'TRUNCATED',
        CORRUPT: 'CORRUPT',
        TOO_LARGE: 'CORRUPT',
        UNREADABLE: 'NOT_FOUND',
      } as const
    )[e.code];
    throw new SceneInspectionError(code, e.message.split(path).join(name));
  }
}

function classifyFailure(
  error: string,
  path: string,
  name: string,
  tail: string,
): SceneInspectionError {
  // Blender's messages name the file by its storage path; show the uploader only the file name.
  const text = error
    .split(path)
    .join(name)
    .replace(/^(Blender cannot open the file: )?Error: /, '$1');
  if (/File format is not supported/i.test(text)) {
    return new SceneInspectionError(
      'NOT_A_BLEND',
      `not a .blend file: Blender cannot read ${name}`,
      tail,
    );
  }
  if (/Failed to read blend file|Missing DNA|truncated|corrupt/i.test(text)) {
    return new SceneInspectionError(
      'CORRUPT',
      `corrupt or truncated .blend: ${text.replace(/^Blender cannot open the file: /, '')}`,
      tail,
    );
  }
  if (/^file not found/.test(text)) return new SceneInspectionError('NOT_FOUND', text, tail);
  if (/no scene/i.test(text)) return new SceneInspectionError('NO_SCENE', text, tail);
  return new SceneInspectionError('BLENDER_FAILED', text, tail);
}
