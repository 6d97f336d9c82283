import type { SceneInfo } from '@tessera/blender';

/** Reasons Tessera cannot render a scene, as one clear sentence each; empty when it can. */
export function sceneProblems(info: SceneInfo): string[] {
  const problems: string[] = [];
  if (info.engine !== 'CYCLES') {
    problems.push(`render engine ${info.engine} is not supported; switch the scene to Cycles`);
  }
  if (!info.hasCamera) problems.push('the scene has no active camera');
  if (info.missingFiles.length > 0) {
    const list = info.missingFiles.slice(0, 10).join(', ');
    problems.push(`external files are missing (pack them into the .blend): ${list}`);
  }
  return problems;
}
