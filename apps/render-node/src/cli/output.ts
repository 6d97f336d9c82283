import { MultiBar, Presets, SingleBar } from 'cli-progress';
import type { ProgressEvent } from '../agent/agent';

export type Log = (line: string, fields?: Record<string, unknown>) => void;

/**
 * How the agent talks to its operator: text lines with progress bars on a terminal, or one JSON
 * object per line (for systemd/journald and log shippers) with --json.
 */
export interface Output {
  log: Log;
  progress?: (event: ProgressEvent) => void;
  close(): void;
}

export function createOutput(opts: {
  json: boolean;
  prefix?: string;
  /** where text and bars go; default standard output (bars only when it is a terminal) */
  terminal?: NodeJS.WritableStream & { isTTY?: boolean };
}): Output {
  const terminal = opts.terminal ?? process.stdout;
  if (opts.json) {
    return {
      log: (line, fields) =>
        terminal.write(
          JSON.stringify({ time: new Date().toISOString(), msg: line, ...fields }) + '\n',
        ),
      close: () => undefined,
    };
  }
  const prefix = opts.prefix ? `[${opts.prefix}] ` : '';
  if (!terminal.isTTY) {
    return { log: (line) => terminal.write(`${prefix}${line}\n`), close: () => undefined };
  }
  const bars = new MultiBar(
    {
      format: '{phase} |{bar}| {percentage}% {what}',
      hideCursor: true,
      clearOnComplete: true,
      stopOnComplete: true,
      etaBuffer: 20,
      stream: terminal,
    },
    Presets.shades_classic,
  );
  const open = new Map<string, SingleBar>();
  return {
    log: (line) => bars.log(`${prefix}${line}\n`),
    progress: (e) => {
      const key = `${e.phase}:${e.id}`;
      let bar = open.get(key);
      const what =
        e.phase === 'download' ? `scene ${e.id.slice(0, 12)}` : `lease ${e.id.slice(0, 8)}`;
      if (!bar) {
        bar = bars.create(e.total, 0, { phase: e.phase.padEnd(8), what });
        open.set(key, bar);
      }
      bar.setTotal(e.total);
      bar.update(e.done, { phase: e.phase.padEnd(8), what });
      if (e.done >= e.total) {
        bar.stop();
        bars.remove(bar);
        open.delete(key);
      }
    },
    close: () => bars.stop(),
  };
}
