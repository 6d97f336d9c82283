import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { CreateJobDto, toJobSettings } from './create-job.dto';

async function check(fields: Record<string, string>) {
  const dto = plainToInstance(CreateJobDto, fields);
  const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
  return { dto, messages: errors.flatMap((e) => Object.values(e.constraints ?? {})) };
}

describe('CreateJobDto', () => {
  it('converts multipart strings and applies defaults', async () => {
    const { dto, messages } = await check({
      frameStart: '3',
      frameEnd: '9',
      tilesX: '4',
      tilesY: '2',
    });
    expect(messages).toEqual([]);
    expect(toJobSettings(dto)).toEqual({
      frameStart: 3,
      frameEnd: 9,
      frameStep: undefined,
      tilesX: 4,
      tilesY: 2,
      tileWidth: undefined,
      tileHeight: undefined,
      overlap: 8,
      samples: null,
      format: 'png',
      verification: 'standard',
      minVramMb: null,
      minBlenderVersion: null,
      device: 'any',
    });
  });

  it('takes the node requirements', async () => {
    const { dto, messages } = await check({
      minVramMb: '8192',
      minBlenderVersion: '3.4',
      device: 'gpu',
    });
    expect(messages).toEqual([]);
    expect(toJobSettings(dto)).toMatchObject({
      minVramMb: 8192,
      minBlenderVersion: '3.4',
      device: 'gpu',
    });
  });

  it.each([
    [{ tilesX: '0' }, /tilesX must not be less than 1/],
    [{ frameStart: '5', frameEnd: '4' }, /frameEnd must not be before frameStart/],
    [{ tilesX: '2', tileWidth: '64' }, /cannot be combined/],
    [{ overlap: '-1' }, /overlap must not be less than 0/],
    [{ samples: 'lots' }, /samples must be an integer/],
    [{ format: 'exr' }, /format must be one of/],
    [{ priority: 'high' }, /should not exist/],
    [{ minVramMb: '0' }, /minVramMb must not be less than 1/],
    [{ minVramMb: '4GB' }, /minVramMb must be an integer/],
    [{ minBlenderVersion: 'latest' }, /minBlenderVersion must be a version/],
    [{ minBlenderVersion: '3' }, /minBlenderVersion must be a version/],
    [{ device: 'tpu' }, /device must be one of/],
  ])('refuses %j', async (fields, message) => {
    const { messages } = await check(fields as Record<string, string>);
    expect(messages.join('; ')).toMatch(message);
  });

  it('uses the tile size instead of a grid when given', async () => {
    const { dto } = await check({ tileWidth: '128', tileHeight: '64' });
    expect(toJobSettings(dto)).toMatchObject({ tilesX: undefined, tileWidth: 128, tileHeight: 64 });
  });
});
