import {
  Body,
  Controller,
  Delete,
  ExecutionContext,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  StreamableFile,
} from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
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
import type { Request, Response } from 'express';
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { GetTaskQuery, ListTasksQuery, SubmitTaskDto, TaskDto, TaskPageDto } from './dto/task.dto';
import { TaskStorage } from './task-storage';
import { TasksService } from './tasks.service';

const uuid = new UuidParamPipe();

@ApiTags('tasks')
@Controller('tasks')
@Permissions(IsAuthenticated)
@ApiBadRequestResponse({ description: 'Invalid body, query or id (problem+json)' })
export class TasksController {
  constructor(
    private readonly tasks: TasksService,
    private readonly storage: TaskStorage,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Submit a task; each type has its own permission and payload (see the tasks guide)',
  })
  @ApiAcceptedResponse({ type: TaskDto, description: 'Queued; Location points at the task' })
  async submit(
    @Body() body: SubmitTaskDto,
    @CurrentUser() user: CurrentUser,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TaskDto> {
    const context: ExecutionContext = new ExecutionContextHost([request, response]);
    const task = await this.tasks.submit(body.type, body.payload, user, context);
    response.setHeader('Location', `/api/v1/tasks/${task.id}`);
    return task;
  }

  @Get()
  @ApiOperation({ summary: "The caller's tasks, newest first (admins: ?all=true for everyone's)" })
  @ApiOkResponse({ type: TaskPageDto })
  list(@CurrentUser() user: CurrentUser, @Query() query: ListTasksQuery): Promise<TaskPageDto> {
    return this.tasks.list(user, query);
  }

  @Get(':id')
  @ApiOperation({
    summary: 'One task; ?waitMs= holds the request until it finishes or the time is up',
  })
  @ApiOkResponse({ type: TaskDto })
  @ApiNotFoundResponse({ description: 'No such task, or not yours' })
  get(
    @Param('id', uuid) id: string,
    @Query() query: GetTaskQuery,
    @CurrentUser() user: CurrentUser,
  ): Promise<TaskDto> {
    return this.tasks.get(id, user, query.waitMs);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Cancel a queued task' })
  @ApiOkResponse({ type: TaskDto })
  @ApiConflictResponse({ description: 'The task is running or finished' })
  @ApiNotFoundResponse({ description: 'No such task, or not yours' })
  cancel(@Param('id', uuid) id: string, @CurrentUser() user: CurrentUser): Promise<TaskDto> {
    return this.tasks.cancel(id, user);
  }

  @Get(':id/download')
  @ApiOperation({ summary: 'The file a finished task produced (e.g. the CSV of users.export)' })
  @ApiProduces('text/csv', 'application/octet-stream')
  @ApiOkResponse({ description: 'The file, streamed' })
  @ApiConflictResponse({ description: 'The task has not succeeded' })
  @ApiNotFoundResponse({ description: 'No such task or file' })
  async download(
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
