import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { Transform, Type } from 'class-transformer';
import { PageQuery } from '@girder/http';
import { TASK_STATUSES, type Task, type TaskStatus } from '../task.entity';

export class SubmitTaskDto {
  @ApiProperty({ example: 'users.export', description: 'The task type (see the oneOf below)' })
  @IsString()
  @MaxLength(100)
  type!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: {},
    description: 'Validated against the type’s payload schema',
  })
  @IsObject()
  payload!: Record<string, unknown>;
}

export class TaskDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'users.export' })
  type!: string;

  @ApiProperty({ enum: TASK_STATUSES })
  status!: TaskStatus;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: 100 })
  progress!: number;

  @ApiProperty({ type: 'object', additionalProperties: true })
  payload!: Record<string, unknown>;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  result!: Record<string, unknown> | null;

  @ApiProperty({ type: String, nullable: true })
  error!: string | null;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Attempts started so far' })
  attempts!: number;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  startedAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt!: string | null;

  static from(task: Task): TaskDto {
    return {
      id: task.id,
      type: task.type,
      status: task.status,
      progress: task.progress,
      payload: task.payload,
      result: task.result,
      error: task.error,
      attempts: task.attempts,
      createdAt: task.createdAt.toISOString(),
      startedAt: task.startedAt?.toISOString() ?? null,
      finishedAt: task.finishedAt?.toISOString() ?? null,
    };
  }
}

export class TaskPageDto {
  @ApiProperty({ type: [TaskDto] })
  items!: TaskDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

export class ListTasksQuery extends PageQuery {
  @ApiPropertyOptional({ description: "Admins only: everyone's tasks" })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  )
  @IsBoolean()
  all?: boolean;
}

export class GetTaskQuery {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: 30_000,
    default: 0,
    description: 'Hold the request until the task finishes, at most this long (ms)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(30_000)
  waitMs: number = 0;
}
