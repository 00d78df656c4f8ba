import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';

/** `{ "<dependency>": { "status": "up" | "down", … } }` */
const INDICATORS: ApiPropertyOptions = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    properties: { status: { type: 'string', enum: ['up', 'down'] } },
    required: ['status'],
    additionalProperties: true,
  },
  example: { database: { status: 'up' }, redis: { status: 'up' } },
};

/** `GET /health/live`. */
export class LivenessReport {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';
}

/** `GET /health/ready`: @nestjs/terminus's shape (what probes and load balancers expect). */
export class ReadinessReport {
  @ApiProperty({ enum: ['ok', 'error', 'shutting_down'] })
  status!: string;

  @ApiPropertyOptional({ ...INDICATORS, description: 'Dependencies that are up' })
  info?: Record<string, { status: string }>;

  @ApiPropertyOptional({
    ...INDICATORS,
    description: 'Dependencies that are down (with status ok: degraded, not unready)',
  })
  error?: Record<string, { status: string }>;

  @ApiProperty({ ...INDICATORS, description: 'Every dependency checked' })
  details!: Record<string, { status: string }>;
}
