import type { OpenAPIObject } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import type { OpenApiOptions } from '@girder/http';
import { DECLARED_TASK_TYPES } from './task-type';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** `users.import` → `UsersImportSubmission` */
function submissionName(type: string): string {
  const pascal = type
    .split(/[.\-_]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
  return `${pascal}Submission`;
}

/**
 * The task types in the OpenAPI document: `SubmitTaskDto` becomes a `oneOf` of one schema per
 * submittable type (its `type` constant and its payload schema) with `type` as the
 * discriminator, and `TaskDto.type` / `TaskDto.result` list every type and result schema.
 * Generated clients then check a submission's payload against its type.
 */
export function taskTypesOpenApi(): Pick<OpenApiOptions, 'extraModels' | 'enhancers'> {
  const types = () => [...DECLARED_TASK_TYPES].sort((a, b) => a.name.localeCompare(b.name));
  return {
    // Payloads of types clients may submit; results of every type (the system's too).
    extraModels: () =>
      types().flatMap((type) => [
        ...(type.permission ? [type.payload] : []),
        ...(type.result ? [type.result] : []),
      ]),
    enhancers: [
      (document: OpenAPIObject) => {
        const schemas = (document.components!.schemas ??= {}) as Record<string, SchemaObject>;
        const submittable = types().filter((type) => type.permission);
        const mapping: Record<string, string> = {};
        for (const type of submittable) {
          const name = submissionName(type.name);
          schemas[name] = {
            type: 'object',
            description: `Submits a ${type.name} task.`,
            required: ['type', 'payload'],
            properties: {
              type: { type: 'string', enum: [type.name] },
              payload: ref(type.payload.name),
            },
          };
          mapping[type.name] = `#/components/schemas/${name}`;
        }
        schemas.SubmitTaskDto = {
          description: 'A task submission: `type` decides the schema of `payload`.',
          oneOf: submittable.map((type) => ref(submissionName(type.name))),
          discriminator: { propertyName: 'type', mapping },
        };
        // TaskDto becomes one schema per type (the common fields, its `type` constant and its
        // result schema), so a client narrows `result` by checking `type`.
        const base = schemas.TaskDto;
        if (!base?.properties) return;
        const common = Object.fromEntries(
          Object.entries(base.properties).filter(([name]) => name !== 'type' && name !== 'result'),
        );
        schemas.TaskBase = {
          ...base,
          properties: common,
          required: (base.required ?? []).filter((name) => name !== 'type' && name !== 'result'),
        };
        const taskMapping: Record<string, string> = {};
        for (const type of types()) {
          const name = submissionName(type.name).replace(/Submission$/, 'Task');
          schemas[name] = {
            description: `A ${type.name} task.`,
            allOf: [
              ref('TaskBase'),
              {
                type: 'object',
                required: ['type', 'result'],
                properties: {
                  type: { type: 'string', enum: [type.name] },
                  result: type.result
                    ? {
                        type: 'object',
                        nullable: true,
                        description: 'The outcome once succeeded; else null',
                        allOf: [ref(type.result.name)],
                      }
                    : {
                        type: 'object',
                        nullable: true,
                        additionalProperties: true,
                        description: 'The outcome once succeeded; else null',
                      },
                },
              },
            ],
          };
          taskMapping[type.name] = `#/components/schemas/${name}`;
        }
        schemas.TaskDto = {
          description: 'A task: the API’s view of one background job. `type` decides `result`.',
          oneOf: Object.values(taskMapping).map(($ref) => ({ $ref })),
          discriminator: { propertyName: 'type', mapping: taskMapping },
        };
      },
    ],
  };
}
