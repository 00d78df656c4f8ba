import type { Names } from '../names';

export const controller = (n: Names): string => `import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { UuidParamPipe } from '@girder/http';
import { IsAdmin, IsAuthenticated, Permissions } from '@girder/permissions';
import { Create${n.Singular}Dto } from './dto/create-${n.singularKebab}.dto';
import { List${n.Plural}Query } from './dto/list-${n.kebab}.query';
import { Update${n.Singular}Dto } from './dto/update-${n.singularKebab}.dto';
import { ${n.Singular}Dto, ${n.Singular}PageDto } from './dto/${n.singularKebab}.dto';
import { ${n.Plural}Service } from './${n.kebab}.service';

const uuid = new UuidParamPipe();

/**
 * Any signed-in caller reads; admins write. Change a route's @Permissions to change that.
 * Handler names are the API's operation ids (what generated clients call): keep them unique.
 */
@ApiTags('${n.kebab}')
@Controller('${n.kebab}')
@ApiBadRequestResponse({ description: 'Invalid body, query or id (problem+json)' })
export class ${n.Plural}Controller {
  constructor(private readonly ${n.plural}: ${n.Plural}Service) {}

  @Get()
  @Permissions(IsAuthenticated)
  @ApiOperation({ summary: 'List ${n.words}s, newest first (keyset pagination)' })
  @ApiOkResponse({ type: ${n.Singular}PageDto })
  list${n.Plural}(@Query() query: List${n.Plural}Query): Promise<${n.Singular}PageDto> {
    return this.${n.plural}.list(query);
  }

  @Get(':id')
  @Permissions(IsAuthenticated)
  @ApiOperation({ summary: 'One ${n.words}' })
  @ApiOkResponse({ type: ${n.Singular}Dto })
  @ApiNotFoundResponse({ description: 'No such ${n.words}' })
  get${n.Singular}(@Param('id', uuid) id: string): Promise<${n.Singular}Dto> {
    return this.${n.plural}.get(id);
  }

  @Post()
  @Permissions(IsAdmin)
  @ApiOperation({ summary: 'Create a ${n.words}' })
  @ApiCreatedResponse({ type: ${n.Singular}Dto })
  create${n.Singular}(@Body() body: Create${n.Singular}Dto): Promise<${n.Singular}Dto> {
    return this.${n.plural}.create(body);
  }

  @Patch(':id')
  @Permissions(IsAdmin)
  @ApiOperation({ summary: 'Change a ${n.words}' })
  @ApiOkResponse({ type: ${n.Singular}Dto })
  @ApiNotFoundResponse({ description: 'No such ${n.words}' })
  update${n.Singular}(@Param('id', uuid) id: string, @Body() body: Update${n.Singular}Dto): Promise<${n.Singular}Dto> {
    return this.${n.plural}.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @Permissions(IsAdmin)
  @ApiOperation({ summary: 'Delete a ${n.words}' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'No such ${n.words}' })
  async delete${n.Singular}(@Param('id', uuid) id: string): Promise<void> {
    await this.${n.plural}.delete(id);
  }
}
`;
