import { Controller, HttpCode, Post, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/problem/api-problems.decorator';
import { CaptionAdmissionGuard } from './caption-admission.guard';
import { AdmissionTicket } from './admission/admitted-request';
import { Admission, CaptionOptions, UploadedImage } from './caption-request.decorators';
import { CaptionUploadInterceptor } from './caption-upload.interceptor';
import { CaptionService } from './caption.service';
import { ApiCaptionBody, ApiCaptionOptions } from './caption.openapi';
import { DecodingOptionsPipe } from './decoding-options/decoding-options.pipe';
import { CaptionResponseDto } from './dto/caption-response.dto';
import { DecodingOptions } from './engine/caption-engine';
import { ACCEPTED_MEDIA_TYPES } from './image/image-format';

@ApiTags('caption')
@Controller('caption')
export class CaptionController {
  constructor(private readonly captions: CaptionService) {}

  @Post()
  @HttpCode(200)
  @UseGuards(CaptionAdmissionGuard)
  @UseInterceptors(CaptionUploadInterceptor)
  @ApiOperation({
    summary: 'Caption an image',
    description:
      'Multipart field `file` (as the seed service), or the raw image bytes with Content-Type image/*. ' +
      'JPEG, PNG, WebP, GIF (first frame), TIFF (first page) and AVIF; the type is read from the bytes.',
  })
  @ApiConsumes('multipart/form-data', ...Object.values(ACCEPTED_MEDIA_TYPES))
  @ApiCaptionBody()
  @ApiCaptionOptions()
  @ApiOkResponse({
    type: CaptionResponseDto,
    description: 'The caption, with the model and decoding used.',
  })
  @ApiProblems(400, 408, 413, 415, 422, 429, 500, 503, 504)
  caption(
    @UploadedImage() image: Buffer,
    @CaptionOptions(DecodingOptionsPipe) options: DecodingOptions,
    @Admission() admission: AdmissionTicket,
  ): Promise<CaptionResponseDto> {
    return this.captions.caption(image, options, admission);
  }
}
