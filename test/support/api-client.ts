import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import request from 'supertest';

export interface SessionBody {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  user: {
    id: string;
    email: string;
    name: string;
    role: 'user' | 'admin';
    isActive: boolean;
    emailVerifiedAt: string | null;
    createdAt: string;
    updatedAt: string;
  };
}

export const ADMIN = { email: 'admin@e2e.test', password: 'e2e-admin-password' };

/** A unique, valid email for this run. */
export function uniqueEmail(tag = 'user'): string {
  return `${tag}-${randomUUID().slice(0, 8)}@example.com`;
}

/**
 * Thin helpers over supertest for the auth flows most tests need. Every response body is
 * recorded, so suites can assert that none of them ever contained a password hash.
 */
export class ApiClient {
  readonly bodies: string[] = [];

  /** An app of this process, or the base URL of an API process (`http://127.0.0.1:PORT`). */
  constructor(private readonly target: INestApplication | string) {}

  http() {
    return request(typeof this.target === 'string' ? this.target : this.target.getHttpServer());
  }

  record<T extends { text: string }>(response: T): T {
    this.bodies.push(response.text ?? '');
    return response;
  }

  async register(
    overrides: Partial<{ email: string; password: string; name: string }> = {},
  ): Promise<SessionBody> {
    const body = {
      email: uniqueEmail(),
      password: 'correct-horse-battery',
      name: 'Test User',
      ...overrides,
    };
    const response = this.record(await this.http().post('/api/v1/auth/register').send(body));
    if (response.status !== 201)
      throw new Error(`register failed: ${response.status} ${response.text}`);
    return response.body as SessionBody;
  }

  async login(email: string, password: string): Promise<SessionBody> {
    const response = this.record(
      await this.http().post('/api/v1/auth/login').send({ email, password }),
    );
    if (response.status !== 200)
      throw new Error(`login failed: ${response.status} ${response.text}`);
    return response.body as SessionBody;
  }

  loginAdmin(): Promise<SessionBody> {
    return this.login(ADMIN.email, ADMIN.password);
  }

  /** POST /api/v1/tasks; answers the raw response (202 with the task, or a problem). */
  submitTask(type: string, payload: object, token: string) {
    return this.send('post', '/api/v1/tasks', { type, payload }, token);
  }

  /** Submits a task that must be accepted (202) and answers its id. */
  async submitAccepted(type: string, payload: object, token: string): Promise<string> {
    const response = await this.submitTask(type, payload, token);
    if (response.status !== 202)
      throw new Error(`submit ${type} failed: ${response.status} ${response.text}`);
    return (response.body as { id: string }).id;
  }

  async get(path: string, token?: string) {
    const call = this.http().get(path);
    if (token) call.set('Authorization', `Bearer ${token}`);
    return this.record(await call);
  }

  async send(method: 'post' | 'patch' | 'delete', path: string, body?: object, token?: string) {
    const call = this.http()[method](path);
    if (token) call.set('Authorization', `Bearer ${token}`);
    return this.record(await (body === undefined ? call : call.send(body)));
  }
}

/** No response body may ever contain a password hash or its field. */
export function expectNoPasswordHashes(bodies: string[]): void {
  expect(bodies.length).toBeGreaterThan(0);
  for (const body of bodies) {
    expect(body).not.toMatch(/\$argon2/);
    expect(body).not.toMatch(/passwordHash|password_hash/);
  }
}
