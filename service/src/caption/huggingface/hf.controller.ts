import {
  Controller,
  HttpCode,
  Post,
  Req,
  Res,
  UseGuards,
  UseInterceptors,
  createParamDecorator,
  ExecutionContext,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiProblems } from '../../common/problem/api-problems.decorator';
import { ProblemError } from '../../common/problem/problem.error';
import { CaptionAdmissionGuard } from '../caption-admission.guard';
import { AdmissionTicket } from '../admission/admitted-request';
import { Admission } from '../caption-request.decorators';
import { CaptionService } from '../caption.service';
import { DecodingOptionsPipe, RawOptions } from '../decoding-options/decoding-options.pipe';
import { DecodingOptions } from '../engine/caption-engine';
import { setServerTiming } from '../timing/server-timing';
import { HfBodyInterceptor, HfRequest } from './hf-body.interceptor';
import { HfRequestGuard } from './hf-request.guard';
import { HfGeneratedText, HF_SHAPE_HEADERS, hfShape, toHfAnswer } from './hf-response';
import { ApiHuggingFaceRoute } from './hf.openapi';

const HfImage = createParamDecorator((_: unknown, context: ExecutionContext): Buffer => {
  const input = context.switchToHttp().getRequest<HfRequest>().hfInput;
  if (!input) throw new ProblemError('missing_image', 'No image in the request.');
  return input.image;
});

const HfOptions = createParamDecorator(
  (_: unknown, context: ExecutionContext): RawOptions =>
    context.switchToHttp().getRequest<HfRequest>().hfInput?.options ?? {},
);

/**
 * The Hugging Face Inference API's image-to-text task at its path, /models/{model_id}, for the
 * model this service serves, so that `huggingface_hub`'s InferenceClient and
 * `@huggingface/inference` work unmodified with this service's URL as their endpoint.
 */
@ApiTags('hugging face')
@Controller('models')
export class HuggingFaceController {
  constructor(private readonly captions: CaptionService) {}

  @Post('*model_id')
  @HttpCode(200)
  @UseGuards(HfRequestGuard, CaptionAdmissionGuard)
  @UseInterceptors(HfBodyInterceptor)
  @ApiOperation({
    summary: 'Caption an image, Hugging Face Inference API style',
    description:
      'The image-to-text task of the Hugging Face Inference API at its path, for the model served: ' +
      '`InferenceClient(model=URL).image_to_text(...)` (huggingface_hub) and ' +
      '`imageToText({endpointUrl: URL, data})` (@huggingface/inference) work unmodified. ' +
      'Problems also carry `error`, where these clients read the message.',
  })
  @ApiHuggingFaceRoute()
  @ApiProblems(
    { status: 400, codes: ['validation_failed', 'missing_image', 'unsupported_option'] },
    { status: 404, codes: ['model_not_found'] },
    408,
    413,
    { status: 415, codes: ['unsupported_media_type'] },
    { status: 422, codes: ['invalid_image'] },
    429,
    500,
    503,
    504,
  )
  async imageToText(
    @HfImage() image: Buffer,
    @HfOptions(DecodingOptionsPipe) options: DecodingOptions,
    @Admission() admission: AdmissionTicket,
    @Req() request: HfRequest,
    @Res({ passthrough: true }) response: Response,
  ): Promise<HfGeneratedText | HfGeneratedText[]> {
    const answer = await this.captions.caption(image, options, admission);
    setServerTiming(response, answer);
    // The shape follows User-Agent and Sec-Fetch-Mode (see hfShape).
    for (const header of HF_SHAPE_HEADERS) response.vary(header);
    return toHfAnswer(answer, hfShape(request.headers));
  }
}
