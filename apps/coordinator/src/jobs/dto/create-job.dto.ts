import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
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

// Multipart fields arrive as strings: @Type converts them before validation.
export class CreateJobDto {
  // Documents the multipart file field; multer takes the file out of the body.
  @ApiProperty({ type: 'string', format: 'binary', description: 'The .blend file' })
  @IsOptional()
  scene?: unknown;

  @ApiPropertyOptional({ description: 'First frame (default: the scene start)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  frameStart?: number;

  @ApiPropertyOptional({ description: 'Last frame, inclusive (default: the scene end)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @NotBefore('frameStart')
  frameEnd?: number;

  @ApiPropertyOptional({ default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  frameStep?: number;

  @ApiPropertyOptional({ description: 'Tiles across (grid)', default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(256)
  @Excludes(['tileWidth', 'tileHeight'])
  tilesX?: number;

  @ApiPropertyOptional({ description: 'Tiles down (grid)', default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(256)
  @Excludes(['tileWidth', 'tileHeight'])
  tilesY?: number;

  @ApiPropertyOptional({ description: 'Target tile width in pixels (instead of a grid)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(16)
  tileWidth?: number;

  @ApiPropertyOptional({ description: 'Target tile height in pixels (instead of a grid)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(16)
  tileHeight?: number;

  @ApiPropertyOptional({
    description: 'Overlap margin in pixels on interior tile edges',
    default: 8,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(512)
  overlap?: number;

  @ApiPropertyOptional({ description: 'Override the scene sample count' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  samples?: number;

  @ApiPropertyOptional({ enum: ['png'], default: 'png' })
  @IsOptional()
  @IsIn(['png'])
  format?: 'png';
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
  };
}
