import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { ApiProblems } from '../common/problem/api-problems.decorator';
import { HealthResultDto } from './health-result.dto';
import { ModelHealthIndicator } from './model.health';

// terminus documents its own plain-JSON 503 with database/redis examples; ours is a problem.
const PROBE = { noCache: true, swaggerDocumentation: false };
const PASSED = { type: HealthResultDto, description: 'The check passed.' };

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly model: ModelHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck(PROBE)
  @ApiOperation({ summary: 'Liveness: the process answers (never depends on the model)' })
  @ApiOkResponse(PASSED)
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck(PROBE)
  @ApiOperation({ summary: 'Readiness: model loaded and warmed, and not shutting down' })
  @ApiOkResponse({ ...PASSED, description: 'Ready to caption.' })
  @ApiProblems({ status: 503, codes: ['not_ready'] })
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.model.isReady('model')]);
  }

  @Get('startup')
  @HealthCheck(PROBE)
  @ApiOperation({
    summary: 'Startup: model loaded and warmed at least once (stays up while draining)',
  })
  @ApiOkResponse(PASSED)
  @ApiProblems({ status: 503, codes: ['not_ready'] })
  startup(): Promise<HealthCheckResult> {
    return this.health.check([() => this.model.hasStarted('model')]);
  }
}
