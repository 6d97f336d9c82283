// Protocol lines from our Python scripts: "@@TESSERA@@ {json}" on stdout, mixed with Blender's log.
//
// Names inside an untrusted .blend (scene, view layer, library paths) are printed by Blender and
// could spell out a marker line, even one starting with a newline. So every message carries a
// per-process random token passed to the script through the environment, which the .blend cannot
// read with Python disabled; lines without it are treated as plain log output.
import { randomBytes } from 'node:crypto';

export const MARKER = '@@TESSERA@@ ';
export const TOKEN_ENV = 'TESSERA_PROTOCOL_TOKEN';

export type ProtocolMessage = Record<string, unknown>;

export function newProtocolToken(): string {
  return randomBytes(16).toString('hex');
}

/** The message in a line, or null when the line is ordinary output (or forged). */
export function parseMarkerLine(line: string, token: string): ProtocolMessage | null {
  const at = line.indexOf(MARKER);
  if (at < 0) return null;
  let value: unknown;
  try {
    value = JSON.parse(line.slice(at + MARKER.length));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const message = value as ProtocolMessage;
  if (message.token !== token) return null;
  delete message.token;
  return message;
}
