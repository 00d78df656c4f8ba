import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
  StreamableFile,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiForbiddenResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { ProblemException } from '@girder/errors';
import { UuidParamPipe } from '@girder/http';
import { CurrentUser, IsAuthenticated, Permissions } from '@girder/permissions';
import type { Response } from 'express';
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { GetTaskQuery, ListTasksQuery, SubmitTaskDto, TaskDto, TaskPageDto } from './dto/task.dto';
import { TaskStorage } from './task-storage';
import { TasksService } from './tasks.service';

const uuid = new UuidParamPipe();

/** The OpenAPI tag of these routes, with its description (listed by the app's document). */
export const TASKS_API_TAG = {
  name: 'tasks',
  description: 'Background work: submit, follow (with waitMs), cancel, download results',
};

@ApiTags(TASKS_API_TAG.name)
@Controller('tasks')
@Permissions(IsAuthenticated)
export class TasksController {
  constructor(
    private readonly tasks: TasksService,
    private readonly storage: TaskStorage,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Submit a task',
    description:
      'Queues background work. `type` picks the task type; each has its own payload schema (see `SubmitTaskDto`) and permission. An unknown type, a system-only type or a bad payload is 400; a type the caller may not submit is 403. The answer is the queued Task, with `Location` pointing at it: poll it with `GET /tasks/{id}?waitMs=`.',
  })
  @ApiAcceptedResponse({
    type: TaskDto,
    description: 'Queued',
    headers: {
      Location: { description: 'The URL of the task', schema: { type: 'string' } },
    },
  })
  @ApiForbiddenResponse({ description: 'The task type’s permission refuses the caller' })
  async submitTask(
    @Body() body: SubmitTaskDto,
    @CurrentUser() user: CurrentUser,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TaskDto> {
    const task = await this.tasks.submit(body.type, body.payload, user);
    response.setHeader('Location', `/api/v1/tasks/${task.id}`);
    return task;
  }

  @Get()
  @ApiOperation({
    summary: "The caller's tasks, newest first",
    description:
      'A page of the caller’s tasks, newest first; admins pass `?all=true` for everyone’s (others: 403). Pass `nextCursor` as `?cursor=` for the next page.',
  })
  @ApiForbiddenResponse({ description: '?all=true by a caller who is not an admin' })
  @ApiOkResponse({ type: TaskPageDto })
  listTasks(
    @CurrentUser() user: CurrentUser,
    @Query() query: ListTasksQuery,
  ): Promise<TaskPageDto> {
    return this.tasks.list(user, query);
  }

  @Get(':id')
  @ApiOperation({
    summary: 'One task',
    description:
      '`?waitMs=` (0..30000) holds the request until the task finishes or the time is up, then answers its state: a cheap way to wait without polling. Another user’s task is a 404 (admins see all).',
  })
  @ApiOkResponse({ type: TaskDto })
  @ApiNotFoundResponse({ description: 'No such task, or not yours' })
  getTask(
    @Param('id', uuid) id: string,
    @Query() query: GetTaskQuery,
    @CurrentUser() user: CurrentUser,
  ): Promise<TaskDto> {
    return this.tasks.get(id, user, query.waitMs);
  }

  @Delete(':id')
  @ApiOperation({
    summary: 'Cancel a queued task',
    description:
      'Only a queued task can be cancelled; a running or finished one is 409 CONFLICT. A task ' +
      'whose job a worker has just started counts as running even while it still reads ' +
      '`queued` (a quick run records no `running` state).',
  })
  @ApiOkResponse({ type: TaskDto })
  @ApiConflictResponse({ description: 'The task is running or finished' })
  @ApiNotFoundResponse({ description: 'No such task, or not yours' })
  cancelTask(@Param('id', uuid) id: string, @CurrentUser() user: CurrentUser): Promise<TaskDto> {
    return this.tasks.cancel(id, user);
  }

  @Get(':id/download')
  @ApiOperation({
    summary: 'The file a finished task produced',
    description:
      'Streams the file of a succeeded task (e.g. the CSV of users.export) with its content type. Not succeeded yet: 409.',
  })
  @ApiProduces('text/csv', 'application/octet-stream')
  @ApiOkResponse({
    description: 'The file, streamed',
    schema: { type: 'string', format: 'binary' },
    headers: {
      'Content-Disposition': {
        description: 'attachment; filename="…"',
        schema: { type: 'string' },
      },
    },
  })
  @ApiConflictResponse({ description: 'The task has not succeeded' })
  @ApiNotFoundResponse({ description: 'No such task or file' })
  async downloadTaskResult(
    @Param('id', uuid) id: string,
    @CurrentUser() user: CurrentUser,
  ): Promise<StreamableFile> {
    const file = await this.tasks.file(id, user);
    const path = this.storage.resolve(file.path);
    await access(path).catch(() => {
      throw new ProblemException('NOT_FOUND', 'The file is no longer available.');
    });
    return new StreamableFile(createReadStream(path), {
      type: file.contentType,
      disposition: `attachment; filename="${file.name}"`,
    });
  }
}
