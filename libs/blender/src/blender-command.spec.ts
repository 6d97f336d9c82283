import { join } from 'node:path';
import { blenderScriptPath, safeBlenderCommand } from './blender-command';

describe('safeBlenderCommand', () => {
  const base = {
    script: '/scripts/inspect_scene.py',
    scriptArgs: ['--blend', '/data/scene.blend'],
    sandboxDir: '/tmp/sandbox',
    baseEnv: {
      PATH: '/usr/bin',
      HOME: '/home/operator',
      NODE_PRIVATE_KEY: '0xsecret',
      DATABASE_URL: 'postgres://x',
      CUDA_VISIBLE_DEVICES: '0',
      PYTHONPATH: '/evil',
      PYTHONSTARTUP: '/evil/startup.py',
      BLENDER_SYSTEM_SCRIPTS: '/evil/scripts',
      BLENDER_USER_SCRIPTS: '/home/operator/scripts',
    },
  };

  it('runs Blender headless, without user settings or Python from the file', () => {
    const cmd = safeBlenderCommand({ ...base, blenderPath: '/opt/blender/blender', threads: 2 });
    expect(cmd.command).toBe('/opt/blender/blender');
    expect(cmd.args).toEqual([
      '-b',
      '--factory-startup',
      '--disable-autoexec',
      '-noaudio',
      '--python-exit-code',
      '1',
      '--threads',
      '2',
      '--python',
      '/scripts/inspect_scene.py',
      '--',
      '--blend',
      '/data/scene.blend',
    ]);
  });

  it('passes no secrets and points every user folder at the sandbox', () => {
    const { env } = safeBlenderCommand(base);
    expect(env.NODE_PRIVATE_KEY).toBeUndefined();
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.PYTHONPATH).toBeUndefined();
    expect(env.PATH).toBe('/usr/bin');
    expect(env.CUDA_VISIBLE_DEVICES).toBe('0');
    expect(env.HOME).toBe('/tmp/sandbox');
    expect(env.TMPDIR).toBe('/tmp/sandbox');
    for (const key of ['BLENDER_USER_CONFIG', 'BLENDER_USER_SCRIPTS', 'BLENDER_USER_DATAFILES']) {
      expect(env[key]?.startsWith('/tmp/sandbox/')).toBe(true);
    }
    expect(env.PYTHONNOUSERSITE).toBe('1');
    expect(env.PYTHONSTARTUP).toBeUndefined();
    expect(env.BLENDER_SYSTEM_SCRIPTS).toBeUndefined();
  });

  it('keeps Python hooks out even when asked to pass them', () => {
    const { env } = safeBlenderCommand({
      ...base,
      extraEnv: { PYTHONPATH: '/x', BLENDER_SYSTEM_SCRIPTS: '/y', CUDA_VISIBLE_DEVICES: '1' },
    });
    expect(env.PYTHONPATH).toBeUndefined();
    expect(env.BLENDER_SYSTEM_SCRIPTS).toBeUndefined();
    expect(env.CUDA_VISIBLE_DEVICES).toBe('1');
  });

  it('runs Blender under prlimit when an address-space limit is given', () => {
    const cmd = safeBlenderCommand({ ...base, addressSpaceBytes: 2 ** 31 });
    expect(cmd.command).toBe('/usr/bin/prlimit');
    expect(cmd.args.slice(0, 4)).toEqual(['--as=2147483648', '--', 'blender', '-b']);
    expect(() => safeBlenderCommand({ ...base, addressSpaceBytes: 0 })).toThrow(RangeError);
  });

  it('adds extra environment last', () => {
    const { env } = safeBlenderCommand({ ...base, extraEnv: { HOME: '/var/cache/node' } });
    expect(env.HOME).toBe('/var/cache/node');
  });

  it('defaults to blender from PATH and rejects bad thread counts', () => {
    expect(safeBlenderCommand(base).command).toBe('blender');
    expect(safeBlenderCommand(base).args).not.toContain('--threads');
    expect(() => safeBlenderCommand({ ...base, threads: -1 })).toThrow(RangeError);
  });

  it('finds the repository scripts', () => {
    expect(blenderScriptPath('tile_worker.py')).toBe(
      join(__dirname, '../../../blender-scripts/tile_worker.py'),
    );
  });
});
