import { BlenderUnavailableError, probeBlenderDevices } from '@tessera/blender';
import { existsSync } from 'node:fs';
import { freeDisk } from '../../agent/capabilities';
import { AgentConfig } from '../../config/agent-config';
import { selectRenderSlots, withMemory } from '../../devices/render-slots';
import { keyFileKind } from '../../identity/node-key';

export interface Check {
  name: string;
  ok: boolean;
  /** a warning does not fail the doctor */
  warn?: boolean;
  detail: string;
}

const MIN_FREE_DISK = 5 * 2 ** 30;

/** Checks what an agent needs: Blender, its devices, disk, the coordinator, the key. */
export async function runDoctor(config: AgentConfig): Promise<Check[]> {
  const checks: Check[] = [];
  try {
    const report = await probeBlenderDevices({ blenderPath: config.blenderPath });
    checks.push({
      name: 'blender',
      ok: true,
      detail: `Blender ${report.blenderVersion} at ${config.blenderPath}`,
    });
    const list = report.devices.map((d) => `${d.type} ${d.name}`).join(', ');
    try {
      const slots = selectRenderSlots(config.device, withMemory(report.devices, new Map()));
      checks.push({
        name: 'devices',
        ok: true,
        detail: `device "${config.device}": ${slots.map((s) => `${s.id} (${s.name})`).join(', ')}; Blender sees ${list}`,
      });
    } catch (e) {
      checks.push({
        name: 'devices',
        ok: false,
        detail: `${(e as Error).message}; Blender sees ${list}`,
      });
    }
  } catch (e) {
    if (!(e instanceof BlenderUnavailableError)) throw e;
    checks.push({ name: 'blender', ok: false, detail: e.message });
  }

  const free = await freeDisk(config.workDir);
  checks.push(
    free === null
      ? { name: 'disk', ok: false, detail: `cannot tell the free space at ${config.workDir}` }
      : {
          name: 'disk',
          ok: free >= MIN_FREE_DISK,
          warn: free < MIN_FREE_DISK && free >= 2 ** 30,
          detail: `${(free / 2 ** 30).toFixed(1)} GiB free at ${config.workDir} (scene cache cap ${config.sceneCacheMb} MiB)`,
        },
  );

  try {
    const res = await fetch(`${config.coordinator}/api/v1/health`, {
      signal: AbortSignal.timeout(5000),
    });
    checks.push({
      name: 'coordinator',
      ok: res.ok,
      detail: `${config.coordinator} answered ${res.status}`,
    });
  } catch (e) {
    checks.push({
      name: 'coordinator',
      ok: false,
      detail: `${config.coordinator} unreachable: ${(e as Error).cause ? String((e as Error & { cause: Error }).cause.message) : (e as Error).message}`,
    });
  }

  try {
    const kind = await keyFileKind(config.keyFile);
    checks.push(
      kind === 'keystore'
        ? { name: 'key', ok: true, detail: `encrypted keystore ${config.keyFile}` }
        : kind === 'plain'
          ? {
              name: 'key',
              ok: true,
              warn: true,
              detail: `${config.keyFile} is not encrypted (render-node init --import)`,
            }
          : { name: 'key', ok: false, detail: `no key at ${config.keyFile} (render-node init)` },
    );
  } catch (e) {
    checks.push({ name: 'key', ok: false, detail: (e as Error).message });
  }

  if (config.maxMemoryMb) {
    const ok = process.platform === 'linux' && existsSync('/usr/bin/prlimit');
    checks.push({
      name: 'limits',
      ok,
      detail: ok
        ? `Blender limited to ${config.maxMemoryMb} MiB (prlimit)`
        : 'maxMemoryMb needs /usr/bin/prlimit (util-linux)',
    });
  }
  return checks;
}
