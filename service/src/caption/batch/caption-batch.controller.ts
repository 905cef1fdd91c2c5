import {
  Controller,
  ExecutionContext,
  HttpCode,
  Post,
  Req,
  Res,
  UseGuards,
  UseInterceptors,
  createParamDecorator,
} from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiProblems } from '../../common/problem/api-problems.decorator';
import { ProblemDto } from '../../common/problem/problem.dto';
import { AdmitBodiesOf, CaptionAdmissionGuard } from '../caption-admission.guard';
import { AdmissionTicket } from '../admission/admitted-request';
import { Admission, CaptionOptions } from '../caption-request.decorators';
import { ApiCaptionOptions } from '../caption.openapi';
import { DecodingOptionsPipe } from '../decoding-options/decoding-options.pipe';
import { CaptionResponseDto } from '../dto/caption-response.dto';
import { DecodingOptions } from '../engine/caption-engine';
import { BatchRequest, BatchUploadInterceptor } from './batch-upload.interceptor';
import { CaptionBatchResponseDto } from './caption-batch.dto';
import { CaptionBatchService } from './caption-batch.service';

const BatchFiles = createParamDecorator(
  (_: unknown, context: ExecutionContext): Buffer[] =>
    context.switchToHttp().getRequest<BatchRequest>().batchFiles ?? [],
);

@ApiTags('caption')
@Controller('captions')
export class CaptionBatchController {
  constructor(private readonly batch: CaptionBatchService) {}

  @Post()
  @HttpCode(200)
  @UseGuards(CaptionAdmissionGuard)
  @AdmitBodiesOf('batch')
  @UseInterceptors(BatchUploadInterceptor)
  @ApiOperation({
    summary: 'Caption several images',
    description:
      'Repeated multipart fields `files` (at most MAX_BATCH_FILES), options as for /caption. ' +
      'The request is admitted once, its body limited to MAX_BATCH_FILES x MAX_UPLOAD_BYTES ' +
      '(and UPLOAD_BUFFER_BYTES); it is refused as a whole (429) when the queue cannot take ' +
      'every image at the recent pace. Each image is then captioned as a single request would ' +
      'be, sharing engine batches; the answer lists a caption or a problem per file, in upload ' +
      'order.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['files'],
      properties: {
        files: {
          type: 'array',
          items: { type: 'string', format: 'binary' },
          description: 'The images, one part each.',
        },
      },
    },
  })
  @ApiCaptionOptions()
  @ApiExtraModels(CaptionResponseDto, ProblemDto)
  @ApiOkResponse({
    type: CaptionBatchResponseDto,
    description: 'A caption or a problem per file.',
    headers: { 'Server-Timing': { description: 'The total (ms).', schema: { type: 'string' } } },
  })
  @ApiProblems(
    {
      status: 400,
      codes: ['validation_failed', 'missing_image', 'unsupported_option', 'too_many_files'],
    },
    408,
    { status: 413, codes: ['payload_too_large'] },
    { status: 415, codes: ['unsupported_media_type'] },
    429,
    500,
    503,
  )
  async captions(
    @BatchFiles() files: Buffer[],
    @CaptionOptions(DecodingOptionsPipe) options: DecodingOptions,
    @Admission() admission: AdmissionTicket,
    @Req() request: BatchRequest,
    @Res({ passthrough: true }) response: Response,
  ): Promise<CaptionBatchResponseDto> {
    const started = performance.now();
    const results = await this.batch.captionAll(files, options, admission, request);
    response.setHeader(
      'Server-Timing',
      `total;dur=${Math.round((performance.now() - started) * 10) / 10}`,
    );
    return { results };
  }
}
