import { Writable } from 'node:stream';
import { createOutput } from './output';

/** A terminal that keeps what is drawn on it (escape codes included). */
class FakeTerminal extends Writable {
  isTTY: boolean;
  columns = 120;
  rows = 40;
  text = '';

  constructor(tty: boolean) {
    super();
    this.isTTY = tty;
  }

  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('operator output', () => {
  it('draws a bar per download, render and upload on a terminal, log lines above them', async () => {
    const terminal = new FakeTerminal(true);
    const out = createOutput({ json: false, terminal });
    out.progress!({ phase: 'download', id: 'ab'.repeat(32), done: 512, total: 1024 });
    out.progress!({ phase: 'render', id: '12345678-aaaa', done: 0.25, total: 1 });
    out.progress!({ phase: 'upload', id: '12345678-aaaa', done: 3, total: 4 });
    await sleep(250); // bars are redrawn on a timer
    expect(terminal.text).toMatch(/download +\|[^|]+\| 50% scene abababababab/);
    expect(terminal.text).toMatch(/render +\|[^|]+\| 25% lease 12345678/);
    expect(terminal.text).toMatch(/upload +\|[^|]+\| 75% lease 12345678/);
    out.progress!({ phase: 'render', id: '12345678-aaaa', done: 1, total: 1 });
    out.log('frame 1 tile 160x90+0+0 done in 812 ms');
    await sleep(250);
    expect(terminal.text).toContain('frame 1 tile 160x90+0+0 done in 812 ms');
    out.close();
  });

  it('writes plain lines when not on a terminal, and JSON lines with --json', () => {
    const pipe = new FakeTerminal(false);
    const text = createOutput({ json: false, prefix: 'gpu0', terminal: pipe });
    expect(text.progress).toBeUndefined(); // no bars in a log file
    text.log('registered as 0xabc');
    expect(pipe.text).toBe('[gpu0] registered as 0xabc\n');

    const journal = new FakeTerminal(false);
    createOutput({ json: true, terminal: journal }).log('lease failed', { leaseId: 'l1' });
    expect(JSON.parse(journal.text)).toMatchObject({ msg: 'lease failed', leaseId: 'l1' });
  });
});
