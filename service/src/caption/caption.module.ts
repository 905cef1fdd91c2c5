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

@Module({
  controllers: [CaptionController],
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
  ],
  exports: [ModelStatusService, ModelLoaderService, CaptionScheduler, CaptionAdmission],
})
export class CaptionModule {}
