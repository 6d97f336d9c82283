import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

export class ChallengeDto {
  @ApiProperty({ example: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed' })
  @Matches(ADDRESS, { message: 'address must be a 0x-prefixed 20-byte hex address' })
  address!: string;
}

export class SessionDto extends ChallengeDto {
  @ApiProperty()
  @Matches(/^[0-9a-f]{64}$/, { message: 'nonce must be the 64-hex nonce of a challenge' })
  nonce!: string;

  @ApiProperty({ description: 'EIP-191 signature over the challenge message' })
  @Matches(/^0x[0-9a-fA-F]{130}$/, { message: 'signature must be a 65-byte hex string' })
  signature!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(100)
  name?: string;

  @ApiPropertyOptional({ description: 'What the node can render (devices, Blender version, ...)' })
  @IsOptional()
  @IsObject()
  capabilities?: Record<string, unknown>;

  @ApiPropertyOptional({
    description: 'Price the node asks per work unit (1 MP x 100 samples), in wei',
    pattern: '^[0-9]{1,78}$',
  })
  @IsOptional()
  @Matches(/^[0-9]{1,78}$/, { message: 'askPriceWei must be a whole number of wei' })
  askPriceWei?: string;
}
