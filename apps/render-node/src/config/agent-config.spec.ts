import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadAgentConfig } from './agent-config';

const home = mkdtempSync(join(tmpdir(), 'agent-config-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('loadAgentConfig', () => {
  it('has working defaults under ~/.tessera', () => {
    const c = loadAgentConfig({ env: {}, home });
    expect(c).toMatchObject({
      coordinator: 'http://127.0.0.1:8080',
      keyFile: join(home, '.tessera', 'node.key'),
      device: 'cpu',
      pipeline: true,
      json: false,
    });
  });

  it('layers file, environment and flags, flags last', () => {
    const file = join(home, 'c.json');
    writeFileSync(file, JSON.stringify({ threads: 2, device: 'gpu', name: 'from-file' }));
    const c = loadAgentConfig({
      env: { TESSERA_THREADS: '4', TESSERA_PIPELINE: 'off' },
      file,
      flags: { name: 'from-flag' },
      home,
    });
    expect(c).toMatchObject({ threads: 4, device: 'gpu', name: 'from-flag', pipeline: false });
  });

  it('takes an ask price in wei from the file, the environment or a flag', () => {
    expect(loadAgentConfig({ env: {}, home }).askPriceWei).toBeUndefined();
    const file = join(home, 'ask.json');
    writeFileSync(file, JSON.stringify({ askPriceWei: 1000 }));
    expect(loadAgentConfig({ env: {}, file, home }).askPriceWei).toBe('1000');
    // beyond 2^53 only a string is exact
    writeFileSync(file, '{ "askPriceWei": "123456789012345678901234567890" }');
    expect(loadAgentConfig({ env: {}, file, home }).askPriceWei).toBe(
      '123456789012345678901234567890',
    );
    const env = { TESSERA_ASK_PRICE_WEI: '2000000000000' };
    expect(loadAgentConfig({ env, file, home }).askPriceWei).toBe('2000000000000');
    expect(loadAgentConfig({ env, file, flags: { askPriceWei: '5' }, home }).askPriceWei).toBe('5');

    for (const bad of ['0.5', '-1', '1e15', '10 gwei']) {
      expect(() => loadAgentConfig({ env: { TESSERA_ASK_PRICE_WEI: bad }, home })).toThrow(
        `askPriceWei from TESSERA_ASK_PRICE_WEI: expected a whole number of wei (got "${bad}")`,
      );
    }
    writeFileSync(file, '{ "askPriceWei": 123456789012345678901234567890 }');
    expect(() => loadAgentConfig({ env: {}, file, home })).toThrow(
      /askPriceWei from in .*ask\.json: a JSON number this large is not exact: write the wei as a string/,
    );
  });

  it('says in one line which setting is wrong and where it came from', () => {
    expect(() => loadAgentConfig({ env: { TESSERA_THREADS: 'lots' }, home })).toThrow(
      /^invalid render-node configuration: threads from TESSERA_THREADS: expected a number/,
    );
    expect(() =>
      loadAgentConfig({
        env: { TESSERA_COORDINATOR: 'not a url' },
        flags: { pollWaitMs: '-1' },
        home,
      }),
    ).toThrow(
      /coordinator from TESSERA_COORDINATOR: expected a URL.*; pollWaitMs from --poll-wait-ms: must be at least 0/,
    );
    const file = join(home, 'bad.json');
    writeFileSync(file, JSON.stringify({ thread: 2 }));
    expect(() => loadAgentConfig({ env: {}, file, home })).toThrow(
      `unknown setting thread in ${file}`,
    );
    writeFileSync(file, '{ nope');
    expect(() => loadAgentConfig({ env: {}, file, home })).toThrow(ConfigError);
    const err = (() => {
      try {
        loadAgentConfig({ env: { TESSERA_DEVICE: 'cuda:x' }, home });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message.split('\n')).toHaveLength(1);
  });
});
