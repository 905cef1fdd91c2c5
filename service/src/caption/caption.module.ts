import { Module } from '@nestjs/common';
import { CaptionAdmission } from './admission/caption-admission.service';
import { CaptionAdmissionGuard } from './caption-admission.guard';
import { CaptionUploadInterceptor } from './caption-upload.interceptor';
import { CaptionController } from './caption.controller';
import { CaptionService } from './caption.service';
import { CaptionCache } from './cache/caption-cache.service';
import { engineProviders } from './engine/engine.provider';
import { ImageIntakeService } from './image/image-intake.service';
import { ModelLoaderService } from './model-loader.service';
import { ModelStatusService } from './model-status.service';
import { CaptionScheduler } from './scheduler/caption-scheduler.service';
import { HfBodyInterceptor } from './huggingface/hf-body.interceptor';
import { HfRequestGuard } from './huggingface/hf-request.guard';
import { HuggingFaceController } from './huggingface/hf.controller';
import { ImageUrlFetcher } from './url/image-url-fetcher.service';
import { CaptionJsonInterceptor } from './inputs/caption-json.interceptor';
import { BatchUploadInterceptor } from './batch/batch-upload.interceptor';
import { CaptionBatchController } from './batch/caption-batch.controller';
import { CaptionBatchService } from './batch/caption-batch.service';

@Module({
  controllers: [CaptionController, CaptionBatchController, HuggingFaceController],
  providers: [
    ...engineProviders,
    CaptionService,
    CaptionScheduler,
    CaptionCache,
    ImageIntakeService,
    ModelStatusService,
    ModelLoaderService,
    CaptionAdmission,
    CaptionAdmissionGuard,
    CaptionUploadInterceptor,
    HfBodyInterceptor,
    CaptionJsonInterceptor,
    BatchUploadInterceptor,
    CaptionBatchService,
    HfRequestGuard,
    ImageUrlFetcher,
  ],
  exports: [ModelStatusService, ModelLoaderService, CaptionScheduler, CaptionAdmission],
})
export class CaptionModule {}
