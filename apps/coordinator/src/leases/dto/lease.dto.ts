import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

export class LeaseRequestDto {
  @ApiPropertyOptional({ description: 'How long to wait for work (ms)', default: 20000 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(60_000)
  waitMs?: number;

  @ApiPropertyOptional({
    description:
      'Lease ids the node holds now; its older active leases not listed are released (grants ' +
      'whose answer never arrived)',
    type: [String],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(256)
  @IsUUID('all', { each: true })
  held?: string[];
}

export class CompleteLeaseDto {
  @ApiProperty({ description: 'SHA-256 (hex) of the uploaded PNG' })
  @Matches(/^[0-9a-fA-F]{64}$/, { message: 'sha256 must be 64 hex characters' })
  sha256!: string;

  @ApiProperty({ description: 'Render time in milliseconds' })
  @IsInt()
  @Min(0)
  renderMs!: number;

  @ApiProperty({ description: 'EIP-191 signature over the completion message' })
  @Matches(/^0x[0-9a-fA-F]{130}$/, { message: 'signature must be a 65-byte hex string' })
  signature!: string;
}

export class FailLeaseDto {
  @ApiProperty()
  @IsString()
  @MaxLength(2000)
  reason!: string;
}
