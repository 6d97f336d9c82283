import { ApiProperty } from '@nestjs/swagger';
import { Matches, MaxLength } from 'class-validator';

export class FundingDto {
  @ApiProperty({
    description:
      "A signed transaction calling the escrow's fund(jobKey) with the deposit as value " +
      '(raw, 0x-prefixed hex); the coordinator broadcasts it',
  })
  @MaxLength(4096)
  @Matches(/^0x[0-9a-fA-F]+$/, { message: 'signedTx must be 0x-prefixed hex' })
  signedTx!: string;
}
