import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { CaptionOptionsDto } from '../dto/caption-options.dto';

/** One generated text of the image-to-text task. */
export class HfGeneratedTextDto {
  @ApiProperty({ example: 'a man riding a wave on top of a surfboard' })
  generated_text: string;
}

/**
 * The image-to-text parameters of the Inference API (ImageToTextParameters): the decoding
 * options, at the top level or nested; each may be given at one level only.
 */
export class HfParametersDto extends CaptionOptionsDto {
  @ApiPropertyOptional({
    allOf: [{ $ref: getSchemaPath(CaptionOptionsDto) }],
    description: "Decoding options, under the Inference API's name.",
  })
  generation_parameters?: CaptionOptionsDto;

  @ApiPropertyOptional({
    allOf: [{ $ref: getSchemaPath(CaptionOptionsDto) }],
    description: "The same, under transformers' pipeline name.",
  })
  generate_kwargs?: CaptionOptionsDto;
}

/** A JSON image-to-text request (ImageToTextInput). */
export class HfImageToTextRequestDto {
  @ApiProperty({
    description: 'The image, base64 or a data: URL with base64 data.',
    example: 'data:image/jpeg;base64,/9j/4AAQSkZJRg...',
  })
  inputs: string;

  @ApiPropertyOptional({ type: HfParametersDto })
  parameters?: HfParametersDto;
}
