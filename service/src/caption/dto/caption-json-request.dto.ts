import { ApiProperty } from '@nestjs/swagger';
import { CaptionOptionsDto } from './caption-options.dto';

/** POST /caption with the image at a URL; decoding options as further members. */
export class CaptionUrlRequestDto extends CaptionOptionsDto {
  @ApiProperty({
    format: 'uri',
    example: 'https://upload.wikimedia.org/wikipedia/commons/4/43/Cute_dog.jpg',
    description:
      'An http or https URL of the image, fetched by the service: public addresses only (or ' +
      'hosts in URL_ALLOWED_PRIVATE_HOSTS), at most 3 redirects, MAX_UPLOAD_BYTES and ' +
      'URL_FETCH_TIMEOUT_MS.',
  })
  url: string;
}

/** POST /caption with the image in the JSON; decoding options as further members. */
export class CaptionImageRequestDto extends CaptionOptionsDto {
  @ApiProperty({
    description: 'The image bytes as base64, or a data: URL with base64 data.',
    example: 'data:image/jpeg;base64,/9j/4AAQSkZJRg...',
  })
  image: string;
}
