import { Body, Controller, Get, INestApplication, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ErrorReporter, type ErrorReport } from '@girder/errors';
import { AllowAll, Permissions } from '@girder/permissions';
import { Type } from 'class-transformer';
import { IsEmail, IsInt, IsString, Length, Max, Min, ValidateNested } from 'class-validator';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createApiApp } from '../support/test-app';

class AddressDto {
  @IsString()
  @Length(1, 50)
  city!: string;
}

class ProbeDto {
  @IsEmail()
  email!: string;

  @IsInt()
  @Min(1)
  @Max(10)
  count!: number;

  @ValidateNested()
  @Type(() => AddressDto)
  address!: AddressDto;
}

/** Routes that exist only in this suite, to drive the cross-cutting behaviour. */
@ApiTags('e2e-probe')
@Controller('e2e-probe')
@Permissions(AllowAll)
class ProbeController {
  constructor(private readonly dataSource: DataSource) {}

  @Post('echo')
  echo(@Body() body: ProbeDto): ProbeDto {
    return body;
  }

  @Get('explode')
  explode(): never {
    throw new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2 SELECT * FROM secrets');
  }

  @Post('duplicate')
  async duplicate(): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query('CREATE TEMP TABLE e2e_unique (value text UNIQUE) ON COMMIT DROP');
      await manager.query('INSERT INTO e2e_unique (value) VALUES ($1)', ['same']);
      await manager.query('INSERT INTO e2e_unique (value) VALUES ($1)', ['same']);
    });
  }
}

class RecordingErrorReporter extends ErrorReporter {
  readonly reports: Array<{ error: unknown; context: ErrorReport }> = [];
  report(error: unknown, context: ErrorReport): void {
    this.reports.push({ error, context });
  }
}

const PROBLEM = /^application\/problem\+json/;

describe('HTTP contract: request ids, timing and problem+json', () => {
  let app: INestApplication;
  const reporter = new RecordingErrorReporter();

  beforeAll(async () => {
    app = await createApiApp({
      controllers: [ProbeController],
      configure: (builder) => builder.overrideProvider(ErrorReporter).useValue(reporter),
    });
  });
  afterAll(async () => {
    await app.close();
  });

  const http = () => request(app.getHttpServer());

  describe('X-Request-ID and X-Response-Time', () => {
    it('echoes a sane incoming request id', async () => {
      const response = await http()
        .get('/health/live')
        .set('X-Request-ID', 'client-42.abc_DEF')
        .expect(200);
      expect(response.headers['x-request-id']).toBe('client-42.abc_DEF');
    });

    it('replaces a missing, unsafe or too long request id with a UUID', async () => {
      for (const incoming of [undefined, 'has spaces', 'x'.repeat(129), '<script>']) {
        const call = http().get('/health/live');
        if (incoming !== undefined) call.set('X-Request-ID', incoming);
        const response = await call.expect(200);
        expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      }
    });

    it('times every response, errors included', async () => {
      for (const path of ['/health/live', '/api/v1/nope']) {
        const response = await http().get(path);
        expect(response.headers['x-response-time']).toMatch(/^\d+\.\d{2}ms$/);
      }
    });
  });

  describe('problem+json', () => {
    it('unknown route → 404 NOT_FOUND with the request id in the body', async () => {
      const response = await http()
        .get('/api/v1/does-not-exist?token=secret-in-query')
        .set('X-Request-ID', 'req-404')
        .expect(404);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body).toEqual({
        type: '/problems/not-found',
        title: 'Not found',
        status: 404,
        detail: expect.any(String),
        // The path only: the query string is not echoed back.
        instance: '/api/v1/does-not-exist',
        code: 'NOT_FOUND',
        requestId: 'req-404',
      });
    });

    it('malformed JSON → 400 BAD_REQUEST, with X-Request-ID', async () => {
      const response = await http()
        .post('/api/v1/e2e-probe/echo')
        .set('Content-Type', 'application/json')
        .send('{"email": "ann@example.com",')
        .expect(400);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.headers['x-request-id']).toBeDefined();
      expect(response.body).toMatchObject({
        code: 'BAD_REQUEST',
        status: 400,
        requestId: response.headers['x-request-id'],
      });
      expect(response.body.detail).toMatch(/Malformed JSON/);
    });

    it('body over 100 kB → 413 PAYLOAD_TOO_LARGE', async () => {
      const response = await http()
        .post('/api/v1/e2e-probe/echo')
        .send({ email: 'ann@example.com', count: 1, address: { city: 'x'.repeat(101 * 1024) } })
        .expect(413);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body).toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
        status: 413,
        title: 'Payload too large',
      });
    });

    it('invalid fields → 400 VALIDATION_FAILED listing every field, nested ones too', async () => {
      const response = await http()
        .post('/api/v1/e2e-probe/echo')
        .send({ email: 'not-an-email', count: 99, address: { city: '' } })
        .expect(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
      expect(response.body.type).toBe('/problems/validation-failed');
      const fields = response.body.errors.map((error: { field: string }) => error.field).sort();
      expect(fields).toEqual(['address.city', 'count', 'email']);
      expect(response.body.detail).toContain('email must be an email');
    });

    it('unknown properties are rejected, not dropped', async () => {
      const response = await http()
        .post('/api/v1/e2e-probe/echo')
        .send({ email: 'ann@example.com', count: 1, address: { city: 'Oslo' }, role: 'admin' })
        .expect(400);
      expect(response.body.errors).toEqual([
        { field: 'role', message: 'property role should not exist' },
      ]);
    });

    it('valid bodies pass through transformed', async () => {
      const body = { email: 'ann@example.com', count: 3, address: { city: 'Oslo' } };
      const response = await http().post('/api/v1/e2e-probe/echo').send(body);
      expect(response.body).toEqual(body);
      expect(response.status).toBe(201);
      expect(response.body).toEqual(body);
    });

    it('unique violation → 409 CONFLICT without constraint or SQL details', async () => {
      const response = await http().post('/api/v1/e2e-probe/duplicate').expect(409);
      expect(response.body.code).toBe('CONFLICT');
      expect(JSON.stringify(response.body)).not.toMatch(/e2e_unique|duplicate key|INSERT/i);
    });

    it('unexpected error → 500 INTERNAL, nothing leaked, reported with the request id', async () => {
      reporter.reports.length = 0;
      const response = await http()
        .get('/api/v1/e2e-probe/explode')
        .set('X-Request-ID', 'req-500')
        .expect(500);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body).toMatchObject({ code: 'INTERNAL', status: 500, requestId: 'req-500' });
      const text = JSON.stringify(response.body);
      for (const leak of ['ECONNREFUSED', 'hunter2', 'SELECT', 'stack', 'at '])
        expect(text).not.toContain(leak);
      expect(reporter.reports).toHaveLength(1);
      expect(reporter.reports[0].context).toMatchObject({
        requestId: 'req-500',
        method: 'GET',
        path: '/api/v1/e2e-probe/explode',
      });
      expect((reporter.reports[0].error as Error).message).toContain('ECONNREFUSED');
    });
  });

  describe('OpenAPI', () => {
    it('serves Swagger UI at /docs and the document with a bearer scheme at /docs-json', async () => {
      const ui = await http().get('/docs').redirects(1).expect(200);
      expect(ui.text).toContain('swagger-ui');
      const document = await http().get('/docs-json').expect(200);
      expect(document.body.openapi).toMatch(/^3\./);
      expect(document.body.components.securitySchemes.bearer).toMatchObject({
        type: 'http',
        scheme: 'bearer',
      });
      expect(Object.keys(document.body.paths)).toEqual(
        expect.arrayContaining(['/health/live', '/health/ready', '/api/v1/e2e-probe/echo']),
      );
    });
  });
});
