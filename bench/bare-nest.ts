/**
 * The baseline of `npm run bench`: the smallest NestJS 11 app with one JSON route, on the
 * Express platform with Nest's defaults (no logging, no guards, no validation, no database).
 * Run as its own process so it does not share an event loop with the load generator.
 */
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

@Controller()
class BareController {
  @Get('bare')
  get(): { id: string; email: string; name: string; role: string } {
    return {
      id: '6f1c7a5e-8d1b-4c39-9a2e-3b5f0d4e7c21',
      email: 'someone@example.com',
      name: 'Some One',
      role: 'user',
    };
  }
}

@Module({ controllers: [BareController] })
class BareModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(BareModule, { logger: false });
  await app.listen(Number(process.env.PORT ?? 3999), '127.0.0.1');
  process.send?.('ready');
}

void main();
