import type { SceneInfo } from '@tessera/blender';

/** Reasons Tessera cannot render a scene, as one clear sentence each; empty when it can. */
export function sceneProblems(info: SceneInfo): string[] {
  const problems: string[] = [];
  if (info.engine !== 'CYCLES') {
    problems.push(`render engine ${info.engine} is not supported; switch the scene to Cycles`);
  }
  if (!info.hasCamera) problems.push('the scene has no active camera');
  // Nodes receive only the .blend: every texture, font, sound or library must be packed into it.
  if (info.externalFiles.length > 0) {
    const list = info.externalFiles.slice(0, 10).join(', ');
    problems.push(
      `the scene uses external files; pack them into the .blend (File > External Data > Pack Resources): ${list}`,
    );
  }
  return problems;
}
