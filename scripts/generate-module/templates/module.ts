import type { Names } from '../names';

export const featureModule = (
  n: Names,
  withTask: boolean,
): string => `import { DynamicModule, Module } from '@nestjs/common';
import { DatabaseModule } from '@girder/database';
import { ${n.Singular} } from './${n.singularKebab}.entity';
import { ${n.Plural}Controller } from './${n.kebab}.controller';
import { ${n.Plural}Repository } from './${n.kebab}.repository';
import { ${n.Plural}Service } from './${n.kebab}.service';
${withTask ? `import { ${n.Plural}SummaryTask } from './${n.kebab}-summary.task';\n` : ''}
const core = {
  imports: [DatabaseModule.forFeature([${n.Singular}])],
  providers: [${n.Plural}Repository, ${n.Plural}Service${withTask ? `, ${n.Plural}SummaryTask` : ''}],
  exports: [${n.Plural}Service],
};

@Module({})
export class ${n.Plural}Module {
  /** The HTTP routes${withTask ? ' (and the task type, so the API can validate submissions)' : ''}: for the API. */
  static forApi(): DynamicModule {
    return { module: ${n.Plural}Module, ...core, controllers: [${n.Plural}Controller] };
  }
${
  withTask
    ? `
  /** Services and the task type, no routes: for the worker, which runs the task. */
  static forWorker(): DynamicModule {
    return { module: ${n.Plural}Module, ...core };
  }
`
    : ''
}}
`;

export const barrel = (
  n: Names,
  migrationClass: string,
  migrationFile: string,
  withTask: boolean,
): string => `export {
  Create${n.Singular}Dto,
  List${n.Plural}Query,
  Update${n.Singular}Dto,
  ${n.Singular}Dto,
  ${n.Singular}PageDto,
} from './dto';
export { ${migrationClass} } from './migrations/${migrationFile}';
export { ${n.Singular} } from './${n.singularKebab}.entity';
export { ${n.Plural}Module } from './${n.kebab}.module';
export { ${n.Plural}Service } from './${n.kebab}.service';
${withTask ? `export { ${n.Plural}SummaryTask } from './${n.kebab}-summary.task';\n` : ''}`;

export const task = (n: Names): string => `import { Injectable } from '@nestjs/common';
import { IsAdmin } from '@girder/permissions';
import { TaskHandler, TaskType } from '@girder/tasks';
import { ${n.Plural}Service } from './${n.kebab}.service';

/** No parameters: an empty body is the only valid payload (unknown properties are a 400). */
export class ${n.Plural}SummaryPayload {}

export interface ${n.Plural}SummaryResult {
  count: number;
}

/** Counts ${n.words}s in the worker. Replace \`run\` with real background work (docs/tasks.md). */
@Injectable()
@TaskType({
  name: '${n.kebab}.summary',
  queue: '${n.kebab}',
  payload: ${n.Plural}SummaryPayload,
  permission: IsAdmin,
})
export class ${n.Plural}SummaryTask extends TaskHandler<${n.Plural}SummaryPayload, ${n.Plural}SummaryResult> {
  constructor(private readonly ${n.plural}: ${n.Plural}Service) {
    super();
  }

  async run(): Promise<${n.Plural}SummaryResult> {
    return { count: await this.${n.plural}.count() };
  }
}
`;
