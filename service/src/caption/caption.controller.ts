import { Controller, HttpCode, Post, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiProblems } from '../common/problem/api-problems.decorator';
import { CaptionAdmissionGuard } from './caption-admission.guard';
import { AdmissionTicket } from './admission/admitted-request';
import { Admission, CaptionOptions, UploadedImage } from './caption-request.decorators';
import { CaptionUploadInterceptor } from './caption-upload.interceptor';
import { CaptionJsonInterceptor } from './inputs/caption-json.interceptor';
import { CaptionService } from './caption.service';
import { ApiCaptionBody, ApiCaptionOptions } from './caption.openapi';
import { DecodingOptionsPipe } from './decoding-options/decoding-options.pipe';
import { CaptionResponseDto } from './dto/caption-response.dto';
import { DecodingOptions } from './engine/caption-engine';
import { ACCEPTED_MEDIA_TYPES } from './image/image-format';
import { setServerTiming } from './timing/server-timing';

@ApiTags('caption')
@Controller('caption')
export class CaptionController {
  constructor(private readonly captions: CaptionService) {}

  @Post()
  @HttpCode(200)
  @UseGuards(CaptionAdmissionGuard)
  @UseInterceptors(CaptionJsonInterceptor, CaptionUploadInterceptor)
  @ApiOperation({
    summary: 'Caption an image',
    description:
      'Multipart field `file` (as the seed service), the raw image bytes with Content-Type image/*, ' +
      'or JSON `{"url": "https://..."}` or `{"image": "<base64>"}`. ' +
      'JPEG, PNG, WebP, GIF (first frame), TIFF (first page) and AVIF; the type is read from the bytes.',
  })
  @ApiConsumes('multipart/form-data', ...Object.values(ACCEPTED_MEDIA_TYPES), 'application/json')
  @ApiCaptionBody()
  @ApiCaptionOptions()
  @ApiOkResponse({
    type: CaptionResponseDto,
    description: 'The caption, with the model and decoding used.',
  })
  @ApiProblems(
    {
      status: 400,
      codes: ['validation_failed', 'missing_image', 'unsupported_option', 'url_not_allowed'],
    },
    408,
    413,
    { status: 415, codes: ['unsupported_media_type'] },
    { status: 422, codes: ['invalid_image', 'url_fetch_failed'] },
    429,
    500,
    503,
    504,
  )
  async caption(
    @UploadedImage() image: Buffer,
    @CaptionOptions(DecodingOptionsPipe) options: DecodingOptions,
    @Admission() admission: AdmissionTicket,
    @Res({ passthrough: true }) response: Response,
  ): Promise<CaptionResponseDto> {
    const answer = await this.captions.caption(image, options, admission);
    setServerTiming(response, answer);
    return answer;
  }
}
