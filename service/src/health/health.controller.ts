import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { ApiProblems } from '../common/problem/api-problems.decorator';
import { ModelHealthIndicator } from './model.health';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly model: ModelHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process answers (never depends on the model)' })
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: model loaded and warmed, and not shutting down' })
  @ApiOkResponse({ description: 'Ready to caption.' })
  @ApiProblems(503)
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.model.isReady('model')]);
  }

  @Get('startup')
  @HealthCheck()
  @ApiOperation({
    summary: 'Startup: model loaded and warmed at least once (stays up while draining)',
  })
  @ApiProblems(503)
  startup(): Promise<HealthCheckResult> {
    return this.health.check([() => this.model.hasStarted('model')]);
  }
}
