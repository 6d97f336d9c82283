import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { isBlenderVersion, JOB_DEVICES, JobDevice } from '@tessera/protocol';
import {
  IsIn,
  IsInt,
  IsOptional,
  Matches,
  Max,
  Min,
  registerDecorator,
  ValidationArguments,
  ValidationOptions,
} from 'class-validator';

/** `frameEnd >= frameStart` when both are given (the scene fills in whichever is missing). */
function NotBefore(property: string, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'notBefore',
      target: object.constructor,
      propertyName,
      constraints: [property],
      options: { message: `${propertyName} must not be before ${property}`, ...options },
      validator: {
        validate(value: unknown, args: ValidationArguments) {
          const other = (args.object as Record<string, unknown>)[property];
          return typeof value !== 'number' || typeof other !== 'number' || value >= other;
        },
      },
    });
}

/** Only one way of giving the tiling. */
function Excludes(properties: string[], options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'excludes',
      target: object.constructor,
      propertyName,
      constraints: properties,
      options: {
        message: `${propertyName} cannot be combined with ${properties.join(' or ')}`,
        ...options,
      },
      validator: {
        validate(value: unknown, args: ValidationArguments) {
          const o = args.object as Record<string, unknown>;
          return value === undefined || properties.every((p) => o[p] === undefined);
        },
      },
    });
}

/**
 * An optional whole-number form field with its bounds and its API docs. Multipart fields arrive
 * as strings, so @Type converts them before validation.
 */
function OptionalInt(
  description: string,
  bounds: { min?: number; max?: number; default?: number },
) {
  return applyDecorators(
    ApiPropertyOptional({
      description,
      minimum: bounds.min,
      maximum: bounds.max,
      default: bounds.default,
    }),
    IsOptional(),
    Type(() => Number),
    IsInt(),
    ...(bounds.min !== undefined ? [Min(bounds.min)] : []),
    ...(bounds.max !== undefined ? [Max(bounds.max)] : []),
  );
}

/** An optional amount of wei as a decimal string (uint256 does not fit a JS number). */
function OptionalWei(description: string) {
  return applyDecorators(
    ApiPropertyOptional({ type: 'string', pattern: '^[0-9]{1,78}$', description }),
    IsOptional(),
    Matches(/^[0-9]{1,78}$/, { message: '$property must be a whole number of wei (digits only)' }),
  );
}

const GRID = { min: 1, max: 256, default: 1 };

export const VERIFICATION_STRENGTHS = ['off', 'light', 'standard', 'paranoid'] as const;
export type VerificationStrength = (typeof VERIFICATION_STRENGTHS)[number];

export class CreateJobDto {
  // Documents the multipart file field; the upload interceptor takes the file out of the body.
  @ApiProperty({ type: 'string', format: 'binary', description: 'The .blend file' })
  @IsOptional()
  scene?: unknown;

  @OptionalInt('First frame (default: the scene start)', {})
  frameStart?: number;

  @OptionalInt('Last frame, inclusive (default: the scene end)', {})
  @NotBefore('frameStart')
  frameEnd?: number;

  @OptionalInt('Frame step', { min: 1, default: 1 })
  frameStep?: number;

  @OptionalInt('Tiles across (grid)', GRID)
  @Excludes(['tileWidth', 'tileHeight'])
  tilesX?: number;

  @OptionalInt('Tiles down (grid)', GRID)
  @Excludes(['tileWidth', 'tileHeight'])
  tilesY?: number;

  @OptionalInt('Target tile width in pixels (instead of a grid)', { min: 16 })
  tileWidth?: number;

  @OptionalInt('Target tile height in pixels (instead of a grid)', { min: 16 })
  tileHeight?: number;

  @OptionalInt('Overlap margin in pixels on interior tile edges', { min: 0, max: 512, default: 8 })
  overlap?: number;

  @OptionalInt('Override the scene sample count', { min: 1, max: 1_000_000 })
  samples?: number;

  @ApiPropertyOptional({
    enum: VERIFICATION_STRENGTHS,
    default: 'standard',
    description: 'How hard untrusted work is checked before it counts (off: trust every node)',
  })
  @IsOptional()
  @IsIn(VERIFICATION_STRENGTHS)
  verification?: VerificationStrength;

  @ApiPropertyOptional({ enum: ['png'], default: 'png' })
  @IsOptional()
  @IsIn(['png'])
  format?: 'png';

  @OptionalWei(
    'Budget cap in wei: the deposit the escrow must hold before the job is dispatched ' +
      '(default: the quote). Unspent budget is refunded when the job closes.',
  )
  budgetWei?: string;

  @OptionalWei(
    'Price per work unit (1 megapixel x 100 samples) in wei; nodes asking more do not get the ' +
      "job's tiles (default: the coordinator's DEFAULT_PRICE_WEI)",
  )
  maxPriceWei?: string;

  @OptionalInt('Render device memory the scene needs, in MiB (GPU VRAM; RAM for CPU nodes)', {
    min: 1,
    max: 16_777_216,
  })
  minVramMb?: number;

  @ApiPropertyOptional({ example: '3.4', description: 'Oldest Blender version that may render' })
  @IsOptional()
  @Matches(/^\d{1,3}\.\d{1,3}(\.\d{1,3})?$/, {
    message: 'minBlenderVersion must be a version like "3.4" or "3.4.1"',
  })
  minBlenderVersion?: string;

  @ApiPropertyOptional({ enum: JOB_DEVICES, default: 'any', description: 'Render device kind' })
  @IsOptional()
  @IsIn(JOB_DEVICES)
  device?: JobDevice;
}

/** What is stored with the job: the request with defaults applied. */
export interface JobSettings {
  frameStart?: number;
  frameEnd?: number;
  frameStep?: number;
  tilesX?: number;
  tilesY?: number;
  tileWidth?: number;
  tileHeight?: number;
  overlap: number;
  samples: number | null;
  format: 'png';
  verification: VerificationStrength;
  budgetWei?: string;
  maxPriceWei?: string;
  /** what a node needs to be leased this job's shards (see nodeSatisfiesJob) */
  minVramMb?: number | null;
  minBlenderVersion?: string | null;
  device?: JobDevice;
}

export function toJobSettings(dto: CreateJobDto): JobSettings {
  const tiled = dto.tileWidth !== undefined || dto.tileHeight !== undefined;
  return {
    frameStart: dto.frameStart,
    frameEnd: dto.frameEnd,
    frameStep: dto.frameStep,
    tilesX: tiled ? undefined : (dto.tilesX ?? 1),
    tilesY: tiled ? undefined : (dto.tilesY ?? 1),
    tileWidth: dto.tileWidth,
    tileHeight: dto.tileHeight,
    overlap: dto.overlap ?? 8,
    samples: dto.samples ?? null,
    format: dto.format ?? 'png',
    verification: dto.verification ?? 'standard',
    budgetWei: dto.budgetWei,
    maxPriceWei: dto.maxPriceWei,
    minVramMb: dto.minVramMb ?? null,
    minBlenderVersion:
      dto.minBlenderVersion && isBlenderVersion(dto.minBlenderVersion)
        ? dto.minBlenderVersion
        : null,
    device: dto.device ?? 'any',
  };
}
